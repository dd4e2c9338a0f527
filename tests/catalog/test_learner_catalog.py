"""The learner's catalog (their groups and the public-child rule) and START."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.course_selectors import activity_series_for_group
from catalog.models import Attempt, Course, Group
from integrations.models import Integration
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    GroupFactory,
    IntegrationFactory,
    TagFactory,
    UserFactory,
    group_learner,
)

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


def test_learners_of_public_groups_below_a_private_group_see_the_platform_groups_content(client):
    """360Learning: "If you choose the platform group, all users in public groups can see the
    content" — however deep the public group sits below private groups."""
    platform = Group.objects.get(is_platform=True)
    integration = IntegrationFactory(group=platform, status=Integration.Status.ACTIVE)
    on_platform = CourseFactory(integration=integration, title="Company-wide Compliance")
    private = GroupFactory(name="Private division", parent=platform, is_public=False)
    private_course = CourseFactory(integration__group=private, title="Division onboarding")
    team = GroupFactory(name="Public team", parent=private, is_public=True)
    client.force_login(group_learner(team, username="tia"))
    assert titles(client) == {"Company-wide Compliance", "Division onboarding"}
    assert client.post(start_url(on_platform)).status_code == 302
    assert private_course.group == private  # its catalog: the public child rule, one level up


def test_learners_of_private_groups_only_do_not_see_the_platform_groups_content(client):
    platform = Group.objects.get(is_platform=True)
    integration = IntegrationFactory(group=platform, status=Integration.Status.ACTIVE)
    course = CourseFactory(integration=integration, title="Company-wide Compliance")
    private = GroupFactory(name="Private division", parent=platform, is_public=False)
    client.force_login(group_learner(private, username="pat"))
    assert titles(client) == set()
    assert client.post(start_url(course)).status_code == 404


def test_start_over_an_opened_attempt_marks_it_completed_at_zero_percent(
    public_learner, client, integration
):
    """360Learning: "When a learner launches a course from 360Learning, the course is marked
    as “completed”, and the progress is set to “0%”." — an opened attempt at 40 % too."""
    course = CourseFactory(integration=integration)
    opened = AttemptFactory(
        course=course,
        learner=public_learner.learner,
        is_open=True,
        progress=40,
        time_spent_ms=600_000,
        fingerprint="synced",
    )
    client.post(start_url(course))
    opened.refresh_from_db()
    assert (opened.is_open, opened.progress, opened.source) == (False, 0, "launch")
    assert opened.completed_at is not None and opened.fingerprint == ""
    assert opened.time_spent_ms == 600_000  # the first attempt's time stays


def test_one_open_launch_per_learner_and_course(public_learner, client, integration):
    """START again while the launch has not been through a sync reuses it: three clicks, one
    attempt and one completion on the group dashboard."""
    course = CourseFactory(integration=integration)
    for _ in range(3):
        assert client.post(start_url(course)).status_code == 302
    attempts = Attempt.objects.filter(course=course, learner=public_learner.learner)
    assert attempts.count() == 1
    assert attempts.get().completion_source == "launch"
    # A launch is counted apart: the completions of the dashboard are Udemy's.
    series = activity_series_for_group(group=integration.group, days=2)
    assert sum(series.completions) == 0
    # Once a sync has brought its figures, the next START is a new attempt.
    attempts.update(fingerprint="synced")
    client.post(start_url(course))
    assert list(attempts.order_by("number").values_list("number", flat=True)) == [1, 2]


LAUNCHED_WORDS = "Launched · counted as completed, per 360Learning's rule"


def test_a_launch_reads_the_same_to_the_learner_and_the_admin_and_is_counted_apart(
    public_learner, client, integration
):
    """START closes the attempt at 0 % (360Learning's rule) but is no completion on Udemy: the
    learner and the admin read the same words, the completion tile does not move, and the API
    tells the source; once Udemy reports the course finished it is a completion."""
    from tests.factories import group_admin

    course = CourseFactory(integration=integration, title="Negotiation Masterclass")
    client.post(start_url(course))
    learner_html = client.get(reverse("catalog:learner_catalog")).content.decode()
    assert LAUNCHED_WORDS in learner_html
    assert 'data-state="launched"' in learner_html

    admin = group_admin(integration.group, username="ada")
    client.force_login(admin)
    dashboard = reverse("catalog:course_dashboard", args=[integration.group.slug, course.pk])
    admin_html = client.get(dashboard).content.decode()
    assert LAUNCHED_WORDS in admin_html
    assert 'data-testid="summary-completions">0<' in admin_html
    assert 'data-testid="summary-launched"' in admin_html
    stats = client.get(f"/api/v1/groups/{integration.group.slug}/stats/").json()
    assert [row["completionSource"] for row in stats["results"]] == ["launch"]

    attempt = Attempt.objects.get(course=course)
    attempt.progress = 100  # what Udemy's statistics bring once the learner finished
    attempt.save()
    admin_html = client.get(dashboard).content.decode()
    assert 'data-testid="summary-completions">1<' in admin_html
    assert 'data-completion-source="udemy"' in admin_html
    stats = client.get(f"/api/v1/groups/{integration.group.slug}/stats/").json()
    assert [row["completionSource"] for row in stats["results"]] == ["udemy"]
