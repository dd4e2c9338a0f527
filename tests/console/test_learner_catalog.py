"""The learner's catalog (their groups and the public-child rule) and START."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lmsbridge.catalog.models import Attempt, Course
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    GroupFactory,
    UserFactory,
    group_learner,
)

from .factories_extra import TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(integration):
    """The synced group, with a public child group and a private one."""
    return integration.group


@pytest.fixture
def public_learner(target, client):
    child = GroupFactory(name="Field sales", parent=target, is_public=True)
    user = group_learner(child, username="pia")
    client.force_login(user)
    return user


def start_url(course) -> str:
    return reverse("catalog:course_start", args=[course.pk])


def titles(client, **params) -> set[str]:
    page = client.get(reverse("catalog:learner_catalog"), params).context["page"]
    return {course.title for course in page.object_list}


def test_learner_of_a_public_child_group_sees_the_target_catalog(
    public_learner, client, integration
):
    course = CourseFactory(integration=integration, title="Negotiation Masterclass")
    course.tags.add(TagFactory(name="Business"))
    CourseFactory(integration=integration, title="Retired", status=Course.Status.ARCHIVED)
    html = client.get(reverse("catalog:learner_catalog")).content.decode()
    assert "Negotiation Masterclass" in html and "Business" in html
    assert "Retired" not in html
    assert f'action="{start_url(course)}"' in html and "START" in html


def test_learner_of_a_private_child_group_does_not(client, target, integration):
    child = GroupFactory(parent=target, is_public=False)
    client.force_login(group_learner(child))
    CourseFactory(integration=integration, title="Negotiation Masterclass")
    assert titles(client) == set()


def test_learner_catalog_search(public_learner, client, integration):
    CourseFactory(integration=integration, title="Python for Beginners")
    CourseFactory(integration=integration, title="Excel Bootcamp")
    assert titles(client, q="python") == {"Python for Beginners"}
    assert (
        "No course matches"
        in client.get(reverse("catalog:learner_catalog"), {"q": "zz"}).content.decode()
    )


def test_start_records_a_closed_zero_percent_attempt_and_redirects(
    public_learner, client, integration
):
    course = CourseFactory(integration=integration, external_id="4321")
    response = client.post(start_url(course))
    assert response.status_code == 302
    assert response.url == "https://demo.udemy.com/course/4321/"
    attempt = Attempt.objects.get(course=course, learner=public_learner.learner)
    assert (attempt.progress, attempt.is_open, attempt.source) == (0, False, "launch")
    assert attempt.completed_at is not None and attempt.launched_at is not None


def test_start_closes_an_opened_attempt(public_learner, client, integration):
    course = CourseFactory(integration=integration)
    opened = AttemptFactory(
        course=course, learner=public_learner.learner, is_open=True, progress=30
    )
    client.post(start_url(course))
    opened.refresh_from_db()
    assert not opened.is_open and Attempt.objects.filter(course=course).count() == 1


def test_start_of_a_course_outside_the_learners_groups_is_404(public_learner, client):
    elsewhere = CourseFactory(integration__group=GroupFactory())
    assert client.post(start_url(elsewhere)).status_code == 404
    assert not Attempt.objects.exists()


def test_start_of_an_archived_course_is_404(public_learner, client, integration):
    course = CourseFactory(integration=integration, status=Course.Status.ARCHIVED)
    assert client.post(start_url(course)).status_code == 404


def test_start_needs_post(public_learner, client, integration):
    course = CourseFactory(integration=integration)
    assert client.get(start_url(course)).status_code == 405
    assert not Attempt.objects.exists()


def test_start_without_a_learner_profile_is_404(client, integration):
    client.force_login(UserFactory(is_superuser=True))
    course = CourseFactory(integration=integration)
    assert client.post(start_url(course)).status_code == 404


def test_start_refuses_a_non_http_launch_url(public_learner, client, integration):
    course = CourseFactory(integration=integration)
    Course.objects.filter(pk=course.pk).update(launch_url="javascript:alert(1)")
    assert client.post(start_url(course)).status_code == 404
    assert not Attempt.objects.exists()


def test_anonymous_users_are_sent_to_login(client, integration):
    course = CourseFactory(integration=integration)
    response = client.get(reverse("catalog:learner_catalog"))
    assert response.status_code == 302 and reverse("login") in response.url
    assert client.post(start_url(course)).status_code == 302
    assert not Attempt.objects.exists()
