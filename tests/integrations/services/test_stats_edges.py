"""Statistics at the edges of 360Learning's rules, end to end on the Udemy sandbox: time spent
after a relaunch, the completion ratio's scale, START over an opened attempt, enrolled-only
learners. Each test quotes the sentence of 360Learning's "Synchronize Udemy content with
360Learning" it holds."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.course_selectors import activity_series_for_group
from catalog.models import Attempt, Course, Learner
from catalog.services import attempt_launch
from integrations.core.execute import Reschedule
from integrations.models import SyncError, SyncRun
from integrations.sandboxes.udemy.reports import COMPLETED, IN_PROGRESS, state_of
from integrations.services.sync import sync_execute
from tests.integrations.services.audience import register

pytestmark = pytest.mark.django_db

ANONYMIZED = "anonymized user"


def _register(emails) -> None:
    register(emails)  # members of the integration's group: they see its catalog


def _named(row) -> bool:
    return row["user_email"].lower() != ANONYMIZED


def _attempts(email: str, course_id) -> list[Attempt]:
    return list(
        Attempt.objects.filter(
            learner__email__iexact=email, course__external_id=str(course_id), course__kind="course"
        ).order_by("number")
    )


def _attempt_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "catalog_attempt" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def _rerun_changes_nothing(run_sync, integration) -> SyncRun:
    """Re-running with the same report writes no attempt."""
    with CaptureQueriesContext(connection) as queries:
        run = run_sync(integration, "stats")
    assert (run.created, run.updated) == (0, 0)
    assert _attempt_writes(queries) == []
    return run


@pytest.fixture
def synced_world(make_udemy_sandbox, make_integration, run_sync):
    def make(**data):
        sandbox = make_udemy_sandbox(courses=60, paths=0, learners=30, **data)
        integration = make_integration(sandbox)
        assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
        _register(sandbox.data.learner_emails)
        return sandbox, integration

    return make


# --------------------------------------------------------------------------- (1) time spent


def test_time_spent_goes_to_the_first_attempt_after_a_relaunch(synced_world, run_sync):
    """360Learning: "The minutes of video content the user has consumed: column Time spent in
    the course dashboard, applied only to the first recorded attempt." — also once a relaunch
    made attempt #2 the current one (10 minutes must not stay 10 while Udemy reports 50)."""
    sandbox, integration = synced_world()
    run_sync(integration, "stats")
    (email, course_id), *_ = sandbox.data.relaunch_completed(1, minutes=40)
    (first,) = _attempts(email, course_id)
    assert not first.is_open and first.completed_at is not None
    completed_before = first.completed_at
    course = Course.objects.get(external_id=str(course_id), kind="course")
    attempt_launch(learner=Learner.objects.get(email__iexact=email), course=course)
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    row = next(
        r
        for r in sandbox.data.activity
        if r["user_email"].lower() == email and r["course_id"] == course_id
    )
    first, second = _attempts(email, course_id)
    assert first.time_spent_ms == round(row["num_video_consumed_minutes"] * 60_000)
    assert first.completed_at == completed_before
    assert (second.number, second.time_spent_ms, second.is_open) == (2, 0, False)
    assert second.progress == 100  # the next sync brings Udemy's figures
    # The relaunch is its own completion, never a second one on the first attempt's date.
    assert second.completed_at == second.launched_at
    _rerun_changes_nothing(run_sync, integration)


# --------------------------------------------------------------------------- (2) ratio scale


def test_a_0_to_1_report_shows_completed_courses_at_100_percent(synced_world, run_sync):
    """360Learning: "The user progress (from 0 to 100%)". On a report whose completion_ratio
    runs from 0 to 1, a completed course's 1.0 is 100 %, never 1 %; the scale is decided once
    for the report and recorded on the run."""
    sandbox, integration = synced_world(ratio_scale="0-1")
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert run.ratio_scale == "0-1"
    rows = [r for r in sandbox.data.activity if _named(r) and state_of(r) != "not_started"]
    completed = next(r for r in rows if state_of(r) == COMPLETED)
    halfway = next(r for r in rows if state_of(r) == IN_PROGRESS)
    assert completed["completion_ratio"] == 1.0
    assert _attempts(completed["user_email"], completed["course_id"])[-1].progress == 100
    expected = round(halfway["completion_ratio"] * 100, 4)
    assert _attempts(halfway["user_email"], halfway["course_id"])[-1].progress == expected
    assert _rerun_changes_nothing(run_sync, integration).ratio_scale == "0-1"


def test_the_same_report_on_either_scale_gives_the_same_progress(synced_world, run_sync):
    """Decided per report, not per value: a 0-100 report's 0.5 % stays 0.5 %, and the same
    report served on 0-1 gives every attempt the same progress."""
    sandbox, integration = synced_world()
    row = next(r for r in sandbox.data.activity if _named(r) and state_of(r) == IN_PROGRESS)
    row["completion_ratio"] = 0.5
    first = run_sync(integration, "stats")
    assert first.ratio_scale == "0-100"
    assert _attempts(row["user_email"], row["course_id"])[-1].progress == 0.5
    before = dict(Attempt.objects.values_list("pk", "progress"))
    sandbox.data.use_ratio_scale("0-1")
    assert run_sync(integration, "stats").ratio_scale == "0-1"
    assert dict(Attempt.objects.values_list("pk", "progress")) == before
    assert _rerun_changes_nothing(run_sync, integration).ratio_scale == "0-1"


def test_a_scale_seen_late_in_the_report_corrects_the_pages_applied_before(
    make_udemy_sandbox, make_integration, run_sync
):
    """The first page of a 0-100 report holds only values up to 1 (read as fractions until a
    later page shows 35): once the whole report is read, the scale is 0-100 and the first page
    is applied again on it. The next run knows the scale from the start: nothing changes."""
    sandbox = make_udemy_sandbox(courses=60, paths=0, learners=60)
    integration = make_integration(sandbox)
    run_sync(integration)
    _register(sandbox.data.learner_emails)
    first_page = sandbox.data.activity[:100]
    for row in first_page:
        row["completion_ratio"] = 0.5 if row["completion_ratio"] else 0
    assert any(r["completion_ratio"] > 1 for r in sandbox.data.activity[100:])
    sandbox.reset_log()
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert run.ratio_scale == "0-100"
    probe = next(r for r in first_page if _named(r) and r["completion_ratio"] == 0.5)
    assert _attempts(probe["user_email"], probe["course_id"])[-1].progress == 0.5
    assert _activity_pages(sandbox).count(1) == 2  # page 1 read again on the decided scale
    sandbox.reset_log()
    _rerun_changes_nothing(run_sync, integration)
    assert _activity_pages(sandbox).count(1) == 1


def test_the_scale_is_kept_across_a_run_resumed_page_by_page(
    make_udemy_sandbox, make_integration, run_sync, settings
):
    """The evidence and the scale of each applied page are kept with the checkpoint: a run that
    yields its worker after every page decides and corrects exactly as a run in one piece."""
    sandbox = make_udemy_sandbox(courses=60, paths=0, learners=60)
    integration = make_integration(sandbox)
    run_sync(integration)
    _register(sandbox.data.learner_emails)
    for row in sandbox.data.activity[:100]:
        row["completion_ratio"] = 0.5 if row["completion_ratio"] else 0
    probe = next(r for r in sandbox.data.activity[:100] if _named(r) and r["completion_ratio"])
    settings.RUN_TIME_SLICE = 1e-9  # every page uses up the slice: the run resumes each time
    sandbox.reset_log()
    run = SyncRun.objects.create(integration=integration, kind="stats", trigger="manual")
    slices = 0
    while run.status not in SyncRun.FINISHED:
        try:
            run = sync_execute(run_id=run.pk)
        except Reschedule:
            slices += 1
            run.refresh_from_db()
    assert slices >= 3
    assert (run.status, run.ratio_scale) == (SyncRun.Status.SUCCEEDED, "0-100")
    assert _attempts(probe["user_email"], probe["course_id"])[-1].progress == 0.5
    assert _activity_pages(sandbox).count(1) == 2


def _activity_pages(sandbox) -> list[int]:
    return [
        int(dict(parse_qsl(entry["query"])).get("page", "1"))
        for entry in sandbox.request_log
        if "user-course-activity" in entry["path"]
    ]


def test_a_report_of_zeros_and_ones_is_decided_by_completion_dates(synced_world, run_sync):
    """All rows 0 or 1: the completed ones carry a completion date, so 1 is 100 %."""
    sandbox, integration = synced_world(ratio_scale="0-1")
    for row in sandbox.data.activity:
        if state_of(row) == IN_PROGRESS:
            row["completion_ratio"] = 0.0
    assert {r["completion_ratio"] for r in sandbox.data.activity} <= {0, 1}
    run = run_sync(integration, "stats")
    assert run.ratio_scale == "0-1"
    completed = next(r for r in sandbox.data.activity if _named(r) and state_of(r) == COMPLETED)
    assert _attempts(completed["user_email"], completed["course_id"])[-1].progress == 100


def test_a_report_of_a_single_row(make_udemy_sandbox, make_integration, run_sync):
    sandbox = make_udemy_sandbox(courses=10, paths=0, learners=1, activity_per_learner=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    _register(sandbox.data.learner_emails)
    sandbox.data.activity[:] = [r for r in sandbox.data.activity if _named(r)]
    (row,) = sandbox.data.activity
    row.update(completion_ratio=0.4, course_start_date="2025-01-02T00:00:00Z")
    run = run_sync(integration, "stats")
    assert (run.fetched, run.ratio_scale) == (1, "0-1")
    assert _attempts(row["user_email"], row["course_id"])[-1].progress == 40


def test_a_ratio_above_100_is_clamped_and_reported(synced_world, run_sync):
    sandbox, integration = synced_world()
    row = next(r for r in sandbox.data.activity if _named(r) and state_of(r) == COMPLETED)
    row["completion_ratio"] = 150
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED and run.failed == 0
    assert _attempts(row["user_email"], row["course_id"])[-1].progress == 100
    error = SyncError.objects.get(run=run)
    assert (error.category, error.external_id) == ("invalid_value", str(row["course_id"]))
    assert "above 100" in error.message


# --------------------------------------------------------------------------- (3) START


def test_start_over_an_opened_attempt_then_the_sync_brings_its_figures(synced_world, run_sync):
    """360Learning: "When a learner launches a course from 360Learning, the course is marked
    as “completed”, and the progress is set to “0%”. The connector updates the statistics at
    the next daily synchronization." A second START before that sync reuses the launch."""
    _sandbox, integration = synced_world()
    run_sync(integration, "stats")
    opened = Attempt.objects.filter(is_open=True, progress__gt=0).select_related("learner").first()
    assert opened is not None
    progress = opened.progress
    launched = attempt_launch(learner=opened.learner, course=opened.course)
    again = attempt_launch(learner=opened.learner, course=opened.course)
    assert launched.pk == again.pk == opened.pk
    assert (again.is_open, again.progress, again.completed_at is not None) == (False, 0, True)
    assert Attempt.objects.filter(learner=opened.learner, course=opened.course).count() == 1
    completions = sum(activity_series_for_group(group=integration.group).completions)
    run_sync(integration, "stats")
    again.refresh_from_db()
    assert (again.progress, again.is_open) == (progress, False)
    assert sum(activity_series_for_group(group=integration.group).completions) == completions
    _rerun_changes_nothing(run_sync, integration)


# --------------------------------------------------------------------------- (4) enrolled only


def test_learners_only_enrolled_get_no_attempt_until_they_start(synced_world, run_sync):
    """360Learning: "If a learner starts a course externally (without attempting in
    360Learning) and does not finish it before the next connector synchronization, then an
    “opened attempt” is created" — a learner only enrolled or assigned has not started."""
    sandbox, integration = synced_world()
    enrolled = sandbox.data.enroll_only(3)
    assert len(enrolled) == 3
    run = run_sync(integration, "stats")
    assert all(_attempts(email, course_id) == [] for email, course_id in enrolled)
    not_started = [r for r in sandbox.data.activity if _named(r) and state_of(r) == "not_started"]
    assert run.not_started == len(not_started) >= 3
    assert not Attempt.objects.filter(progress=0, time_spent_ms=0, is_open=True).exists()
    assert _rerun_changes_nothing(run_sync, integration).not_started == run.not_started
    email, course_id = enrolled[0]
    row = next(
        r
        for r in sandbox.data.activity
        if r["user_email"].lower() == email and r["course_id"] == course_id
    )
    row.update(course_start_date="2025-06-04T08:00:00Z", completion_ratio=5)
    run_sync(integration, "stats")
    (attempt,) = _attempts(email, course_id)
    assert (attempt.is_open, attempt.progress) == (True, 5)


def test_a_launch_on_a_course_the_learner_is_only_enrolled_in_gets_the_rows_figures(
    synced_world, run_sync
):
    """An enrolled-only row creates nothing, but it is applied to an attempt that exists."""
    sandbox, integration = synced_world()
    ((email, course_id),) = sandbox.data.enroll_only(1)
    course = Course.objects.get(external_id=str(course_id), kind="course")
    launched = attempt_launch(learner=Learner.objects.get(email__iexact=email), course=course)
    run_sync(integration, "stats")
    launched.refresh_from_db()
    assert launched.fingerprint  # synced: the next START is a new attempt
    assert (launched.is_open, launched.progress) == (False, 0)


def test_an_empty_opened_attempt_of_a_learner_only_enrolled_is_removed(synced_world, run_sync):
    """An opened attempt that holds nothing but what an enrolled-only row gives (no progress,
    minutes nor completion) is not an attempt by 360Learning's rule: the sync removes it."""
    sandbox, integration = synced_world()
    ((email, course_id),) = sandbox.data.enroll_only(1)
    learner = Learner.objects.get(email__iexact=email)
    course = Course.objects.get(external_id=str(course_id), kind="course")
    Attempt.objects.create(learner=learner, course=course, number=1, is_open=True)
    run = run_sync(integration, "stats")
    assert _attempts(email, course_id) == []
    assert run.status == SyncRun.Status.SUCCEEDED
    _rerun_changes_nothing(run_sync, integration)
