"""Coursebase's udemy_user_course_activity report as the statistics source of the group's Udemy
integration: the same mapping and attempt rules as Udemy's own report, read from the export."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.models import Attempt
from integrations.core.execute import Reschedule
from integrations.models import Integration, SyncRun
from integrations.services.sync import sync_execute
from tests.factories import CourseFactory, IntegrationFactory, LearnerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_polls(settings) -> None:
    settings.REPORT_POLL_INTERVAL = 0.01


@pytest.fixture
def world(make_coursebase_sandbox, make_connection):
    sandbox = make_coursebase_sandbox(udemy_reports=True)
    connection = make_connection(sandbox, udemy_stats_from_report=True)
    integration = IntegrationFactory(group=connection.group, status=Integration.Status.ACTIVE)
    courses = [CourseFactory(integration=integration, external_id=str(100 + i)) for i in range(3)]
    learners = [LearnerFactory(email=f"learner{i}@example.com") for i in range(90)]
    for learner in learners:  # statistics match only learners who see the group's catalog
        MembershipFactory(group=connection.group, learner=learner)
    rows = sandbox.reports.data.udemy_activity
    for i, learner in enumerate(learners):
        for course in courses:
            rows.append({
                "user_email": learner.email.upper() if i % 7 == 0 else learner.email,
                "course_id": course.external_id,
                "course_start_date": "2026-11-02T08:00:00Z",
                "course_last_accessed_date": "2026-11-20T08:00:00Z",
                "completion_ratio": "100" if i % 3 == 0 else "40",
                "course_completion_date": "2026-11-20T08:00:00Z" if i % 3 == 0 else "",
                "num_video_consumed_minutes": "12",
            })  # fmt: skip
    return sandbox, integration, courses


def stats(integration) -> SyncRun:
    run = SyncRun.objects.create(integration=integration, kind="stats", trigger="manual")
    while run.status not in SyncRun.FINISHED:
        try:
            run = sync_execute(run_id=run.pk)
        except Reschedule:
            run.refresh_from_db()
    return run


def test_statistics_come_from_the_coursebase_export(world):
    sandbox, integration, _courses = world
    run = stats(integration)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert Attempt.objects.count() == 270 and run.created == 270
    done = Attempt.objects.filter(progress=100, completed_at__isnull=False)
    assert done.count() == 30 * 3  # learners 0, 3, 6 ...: completed, closed
    assert Attempt.objects.filter(progress=40, is_open=True).count() == 60 * 3
    assert {a.time_spent_ms for a in Attempt.objects.all()} == {12 * 60_000}
    assert run.ratio_scale == "0-100"
    assert [r["report_type"] for r in sandbox.reports.export_requests] == [
        "udemy_user_course_activity"
    ]

    again = stats(integration)  # the same report: nothing written
    assert (again.created, again.updated) == (0, 0)


def test_a_run_resumed_page_by_page_applies_every_row_once(world, settings):
    sandbox, integration, _ = world
    settings.RUN_TIME_SLICE = 1e-9  # every page uses up the slice: the run resumes each time
    run = stats(integration)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert Attempt.objects.count() == 270 and run.created == 270  # none twice, none lost
    # each resumption exports the report again (the file lives as long as one slice)
    assert len(sandbox.reports.export_requests) >= 3


def test_a_bad_row_is_a_sync_error_and_the_rest_applies(world):
    sandbox, integration, _ = world
    sandbox.reports.data.udemy_activity[5]["completion_ratio"] = "lots"
    run = stats(integration)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.failed == 1 and Attempt.objects.count() == 269


def test_without_the_choice_the_udemy_api_is_read(world):
    """The default: statistics come from Udemy's API (here an unreachable one: the run fails
    on it, and Coursebase is not asked for anything)."""
    sandbox, integration, _ = world
    integration.group.platform_connection.__class__.objects.update(udemy_stats_from_report=False)
    run = stats(integration)
    assert sandbox.reports.export_requests == []
    assert run.status == SyncRun.Status.FAILED


def test_an_org_without_udemy_reports_gets_a_clear_error(make_coursebase_sandbox, make_connection):
    sandbox = make_coursebase_sandbox(udemy_reports=False)
    connection = make_connection(sandbox, udemy_stats_from_report=True)
    integration = IntegrationFactory(group=connection.group, status=Integration.Status.ACTIVE)
    run = stats(integration)
    assert run.status == SyncRun.Status.FAILED
    assert "invalid_report_type" in run.error_summary


def test_report_dates_are_read_in_the_zone_they_were_requested_in(world):
    """Coursebase writes a report's dates in the requested time zone (report.export:
    "The time zone used for date values in the report"), without an offset: a completion at
    08:00 UTC is written 09:00 in Paris and must be read back as 08:00 UTC, not 09:00."""
    sandbox, integration, _courses = world
    stats(integration)
    assert sandbox.reports.export_requests[0]["time_zone"] == "Europe/Paris"
    done = Attempt.objects.filter(completed_at__isnull=False).first()
    assert done.completed_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert done.first_activity == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
