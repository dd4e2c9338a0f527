"""Every list page answers with the same number of SQL queries for 5 rows and for 50."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import AuditEntry, SyncRun
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    GroupFactory,
    SyncErrorFactory,
    SyncRunFactory,
    TagFactory,
    group_learner,
)

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    if hasattr(response, "streaming_content"):
        with CaptureQueriesContext(connection) as streamed:
            b"".join(response.streaming_content)
        return len(queries) + len(streamed)
    return len(queries)


def assert_constant(client, url: str, add_rows: Callable[[int], None]) -> None:
    add_rows(5)
    few = count_queries(client, url)
    add_rows(45)
    many = count_queries(client, url)
    assert few == many, f"{url}: {few} queries with 5 rows, {many} with 50"


def finished_runs(integration, n: int) -> None:
    now = timezone.now()
    for _ in range(n):
        SyncRunFactory(
            integration=integration,
            status=SyncRun.Status.SUCCEEDED,
            triggered_by=integration.owner,
            started_at=now - timedelta(seconds=30),
            finished_at=now,
            fetched=100,
        )


def tagged_courses(integration, n: int) -> None:
    tags = [TagFactory(name="Development"), TagFactory(name="Business")]
    for _ in range(n):
        CourseFactory(integration=integration, authors=["Jane Doe"]).tags.add(*tags)


def test_integrations_list(admin_client, group, integration):
    url = reverse("integrations:settings", args=[group.slug])
    assert_constant(admin_client, url, lambda n: finished_runs(integration, n))


def test_provider_page_with_its_audit_trail(admin_client, group, integration, admin_user):
    url = reverse("integrations:provider", args=[group.slug, "udemy"])

    def add(n: int) -> None:
        for _ in range(n):
            AuditEntry.objects.create(
                integration=integration, actor=admin_user, action="update", fields=["sync_tags"]
            )

    assert_constant(admin_client, url, add)


def test_history(admin_client, group, integration, admin_user):
    integration.owner = admin_user
    integration.save()
    url = reverse("integrations:history", args=[group.slug])
    assert_constant(admin_client, url, lambda n: finished_runs(integration, n))


def test_run_page_with_errors(admin_client, group, integration):
    run = SyncRunFactory(integration=integration, status=SyncRun.Status.PARTIAL)
    url = reverse("integrations:run", args=[group.slug, run.pk])
    assert_constant(admin_client, url, lambda n: SyncErrorFactory.create_batch(n, run=run))


def test_group_catalog(admin_client, group, integration):
    url = reverse("catalog:group_catalog", args=[group.slug])
    assert_constant(admin_client, url, lambda n: tagged_courses(integration, n))


def test_course_dashboard_and_its_csv(admin_client, group, integration):
    course = CourseFactory(integration=integration)
    url = reverse("catalog:course_dashboard", args=[group.slug, course.pk])

    def add(n: int) -> None:
        AttemptFactory.create_batch(n, course=course, last_activity=timezone.now())

    assert_constant(admin_client, url, add)
    assert_constant(admin_client, url + "?format=csv&sort=-progress", add)


def test_group_dashboard(admin_client, group, integration):
    course = CourseFactory(integration=integration)
    url = reverse("catalog:group_dashboard", args=[group.slug])

    def add(n: int) -> None:
        now = timezone.now()
        for i in range(n):
            moment = now - timedelta(days=i % 80)
            AttemptFactory(
                course=course, first_activity=moment, last_activity=moment, completed_at=moment
            )

    assert_constant(admin_client, url, add)


def test_learner_catalog(client, integration):
    child = GroupFactory(parent=integration.group, is_public=True)
    client.force_login(group_learner(child))
    url = reverse("catalog:learner_catalog")
    assert_constant(client, url, lambda n: tagged_courses(integration, n))
