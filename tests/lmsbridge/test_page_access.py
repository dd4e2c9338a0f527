"""Who may open what: group admins only their groups, learners never the admin pages (404,
never 403: no existence leak), superusers everything, anonymous users go to the login page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Integration, SyncRun
from tests.factories import (
    CourseFactory,
    IntegrationFactory,
    SyncRunFactory,
    UserFactory,
    group_admin,
    group_learner,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(group):
    """An integration, a run and a course of `group` (the group under attack)."""
    integration = IntegrationFactory(group=group, status=Integration.Status.ACTIVE)
    run = SyncRunFactory(integration=integration, status=SyncRun.Status.SUCCEEDED)
    course = CourseFactory(integration=integration)
    return {"integration": integration, "run": run, "course": course}


def get_urls(group, objects) -> list[str]:
    slug, run, course = group.slug, objects["run"], objects["course"]
    return [
        reverse("integrations:settings", args=[slug]),
        reverse("integrations:provider", args=[slug, "udemy"]),
        reverse("integrations:deactivate", args=[slug, "udemy"]),
        reverse("integrations:history", args=[slug]),
        reverse("integrations:run", args=[slug, run.pk]),
        reverse("integrations:run_progress", args=[slug, run.pk]),
        reverse("catalog:group_catalog", args=[slug]),
        reverse("catalog:course_dashboard", args=[slug, course.pk]),
        reverse("catalog:course_dashboard", args=[slug, course.pk]) + "?format=csv",
        reverse("catalog:group_dashboard", args=[slug]),
    ]


def post_urls(group) -> list[tuple[str, dict]]:
    slug = group.slug
    return [
        (reverse("integrations:provider", args=[slug, "udemy"]), {"action": "save"}),
        (reverse("integrations:deactivate", args=[slug, "udemy"]), {}),
        (reverse("integrations:sync", args=[slug, "udemy", "content"]), {}),
        (reverse("integrations:sync", args=[slug, "udemy", "stats"]), {}),
    ]


def assert_nothing_changed(objects) -> None:
    integration = objects["integration"]
    integration.refresh_from_db()
    assert integration.status == Integration.Status.ACTIVE
    assert SyncRun.objects.filter(integration=integration).count() == 1


def test_admin_of_another_group_gets_404_everywhere(client, group, other_group, objects):
    client.force_login(group_admin(other_group))
    for url in get_urls(group, objects):
        assert client.get(url).status_code == 404, url
    for url, data in post_urls(group):
        assert client.post(url, data).status_code == 404, url
    assert_nothing_changed(objects)


def test_learner_of_the_group_never_sees_its_settings_or_statistics(client, group, objects):
    client.force_login(group_learner(group))
    for url in get_urls(group, objects):
        assert client.get(url).status_code == 404, url
    for url, data in post_urls(group):
        assert client.post(url, data).status_code == 404, url
    assert_nothing_changed(objects)


def test_own_runs_and_courses_only_through_their_own_group(client, group, other_group, objects):
    """An admin of B can't read A's run or course by putting its id under B's slug."""
    client.force_login(group_admin(other_group))
    slug, run, course = other_group.slug, objects["run"], objects["course"]
    for url in (
        reverse("integrations:run", args=[slug, run.pk]),
        reverse("integrations:run_progress", args=[slug, run.pk]),
        reverse("catalog:course_dashboard", args=[slug, course.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_admin_of_the_group_opens_every_page(admin_client, group, objects):
    for url in get_urls(group, objects):
        assert admin_client.get(url).status_code == 200, url


def test_superuser_opens_every_group(client, group, objects):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    for url in get_urls(group, objects):
        assert client.get(url).status_code == 200, url


def test_anonymous_users_are_sent_to_the_login_page(client, group, objects):
    for url in get_urls(group, objects):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    for url, data in post_urls(group):
        assert client.post(url, data).status_code == 302, url
    assert_nothing_changed(objects)


def test_unknown_group_is_404(admin_client):
    assert admin_client.get(reverse("integrations:settings", args=["nope"])).status_code == 404
