"""Content sync against the Udemy sandbox on a real socket (issue [3])."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Course, Tag
from integrations.models import SyncError, SyncRun
from integrations.services.sync import sync_request

pytestmark = pytest.mark.django_db


def _course_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "catalog_course" in q["sql"]
    ]


@pytest.mark.slow
def test_first_sync_then_unchanged_resync_then_changes_give_exact_counts(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=2500, paths=50, learners=10)
    integration = make_integration(sandbox, sync_learning_paths=True, sync_tags=True)

    first = run_sync(integration)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error_summary
    assert (first.fetched, first.created, first.failed) == (2550, 2550, 0)
    assert Course.objects.filter(kind=Course.Kind.COURSE).count() == 2500
    assert Course.objects.filter(kind=Course.Kind.LEARNING_PATH).count() == 50
    assert first.progress_total == 2550
    assert first.progress_done == 2550

    with CaptureQueriesContext(connection) as queries:
        second = run_sync(integration)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert (second.created, second.updated, second.unchanged, second.archived) == (0, 0, 2550, 0)
    assert _course_writes(queries.captured_queries) == []  # an unchanged re-sync writes nothing

    course_ids = [c["id"] for c in sandbox.data.courses]
    sandbox.data.add_courses(7)
    sandbox.data.update_courses(course_ids[:5])
    sandbox.data.retire_courses(course_ids[10:14])
    third = run_sync(integration)
    assert (third.created, third.updated, third.archived) == (7, 5, 4)
    assert third.archival_decision == "applied"
    archived = set(
        Course.objects.filter(status=Course.Status.ARCHIVED).values_list("external_id", flat=True)
    )
    assert archived == {str(i) for i in course_ids[10:14]}


def test_sql_statements_per_page_are_bounded(make_udemy_sandbox, make_integration, run_sync):
    """A constant number of statements per page: 2,500 courses cost ~5× what 500 cost."""
    counts = {}
    for n in (500, 2500):
        sandbox = make_udemy_sandbox(courses=n, paths=0, learners=1)
        integration = make_integration(sandbox, sync_tags=True)
        with CaptureQueriesContext(connection) as queries:
            run = run_sync(integration)
        assert run.created == n
        counts[n] = len(queries.captured_queries)
    pages_small, pages_large = 5, 25
    per_page_small = counts[500] / pages_small
    per_page_large = counts[2500] / pages_large
    assert per_page_large <= per_page_small  # fixed costs amortize; never grows per item
    assert counts[2500] <= 5 * counts[500]
    assert per_page_large < 20, counts


def test_a_bad_item_becomes_a_sync_error_and_the_run_goes_on(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=150, paths=0, learners=1)
    sandbox.data.courses[3].pop("id")
    sandbox.data.courses[7]["title"] = {"not": "a string"}
    run = run_sync(make_integration(sandbox))
    assert run.status == SyncRun.Status.PARTIAL
    assert (run.fetched, run.created, run.failed) == (150, 148, 2)
    errors = list(SyncError.objects.filter(run=run))
    assert len(errors) == 2
    assert {e.category for e in errors} <= {"invalid_item", "invalid_value"}
    # One of them has no id to tell: it may be any course, so none is taken as gone (an item
    # that failed with a readable id does not hold the archival: test_content_review).
    assert run.archival_decision == "skipped"
    assert "1 listed item(s) had no readable id" in run.archival_reason
    assert not Course.objects.filter(status=Course.Status.ARCHIVED).exists()


def test_an_empty_scan_archives_nothing(make_udemy_sandbox, make_integration, run_sync):
    sandbox = make_udemy_sandbox(courses=120, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses])
    run = run_sync(integration)
    assert run.fetched == 0
    assert run.archival_decision == "skipped"
    assert "no item" in run.archival_reason
    assert Course.objects.filter(status=Course.Status.ACTIVE).count() == 120


def test_a_failing_scan_archives_nothing_and_keeps_committed_pages(
    make_udemy_sandbox, make_integration, run_sync, settings
):
    settings.UDEMY_MAX_RETRIES = 1
    sandbox = make_udemy_sandbox(courses=350, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses[:50]])
    sandbox.fail(path_contains="page=2", status=503, times=10)
    run = run_sync(integration)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.fetched == 100  # page 1 committed, then the scan broke
    assert run.archived == 0
    assert run.archival_decision == "skipped"  # and the panel says why
    assert run.archival_reason.startswith("the scan is incomplete (Courses: Udemy answered 503")
    assert SyncError.objects.filter(run=run, category="UdemyUnavailable").exists()
    assert Course.objects.filter(status=Course.Status.ACTIVE).count() == 350
    # the bar stops where the scan stopped: page 1 of 3 (300 courses left upstream)
    (courses,) = run.streams
    assert (courses.done, courses.total, courses.complete) == (100, 300, False)
    assert (run.progress_percent, run.progress_state) == (33, "partial")


def test_archival_guard_refuses_to_archive_a_large_share(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses[:30]])
    run = run_sync(integration)
    assert run.archival_decision == "held"
    assert "30 of the 100" in run.archival_reason
    assert [w["code"] for w in run.warnings] == ["cleanup_pending"]
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 0
    assert Course.objects.filter(missing_since__isnull=False).count() == 30


def test_a_flood_of_new_ids_cannot_push_the_catalog_under_the_guard(
    make_udemy_sandbox, make_integration, run_sync
):
    """The share is measured against the catalog as it was before the scan: an upstream that
    answers 500 new ids and none of the 100 known ones archives nothing, and publishes
    nothing either (the 500 are held for review)."""
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses])
    sandbox.data.add_courses(500)
    run = run_sync(integration)
    assert run.created == 500
    assert run.archival_decision == "held"
    assert "100 of the 100" in run.archival_reason
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 0
    assert Course.objects.filter(status=Course.Status.HELD).count() == 500
    assert {w["code"] for w in run.warnings} == {"cleanup_pending", "new_held"}


def test_a_retired_course_that_comes_back_is_restored(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    gone = sandbox.data.courses[:3]
    sandbox.data.retire_courses([c["id"] for c in gone])
    assert run_sync(integration).archived == 3
    sandbox.data.courses.extend(gone)
    run = run_sync(integration)
    assert run.restored == 3
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 0


def test_tags_are_added_when_enabled_and_never_removed_when_disabled(
    make_udemy_sandbox, make_integration, run_sync
):
    """360Learning rule: disabling tags synchronization removes no tag from existing courses."""
    sandbox = make_udemy_sandbox(courses=40, paths=0, learners=1)
    integration = make_integration(sandbox, sync_tags=False)
    run_sync(integration)
    assert Tag.objects.count() == 0
    integration.sync_tags = True
    integration.save()
    run = run_sync(integration)
    assert run.updated == 40
    with_tags = Course.objects.filter(tags__isnull=False).distinct().count()
    assert with_tags > 0
    integration.sync_tags = False
    integration.save()
    run_sync(integration)
    assert Course.objects.filter(tags__isnull=False).distinct().count() == with_tags


def test_learning_paths_are_prefixed_kept_apart_and_archived_when_disabled(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=30, paths=6, learners=1)
    integration = make_integration(sandbox, sync_learning_paths=True)
    run_sync(integration)
    paths = Course.objects.filter(kind=Course.Kind.LEARNING_PATH)
    assert paths.count() == 6
    assert all(p.title.startswith("[Learning Path] ") for p in paths)
    assert all(p.lang == "en" for p in paths)
    integration.sync_learning_paths = False
    integration.save()
    run = run_sync(integration)
    assert run.archived == 6
    assert paths.filter(status=Course.Status.ARCHIVED).count() == 6
    assert Course.objects.filter(kind=Course.Kind.COURSE, status="active").count() == 30


def test_missing_locale_takes_the_owner_language(make_udemy_sandbox, make_integration, run_sync):
    """360Learning rule: if no language, the language of the owner of the connector is used."""
    sandbox = make_udemy_sandbox(courses=20, paths=0, learners=1)
    sandbox.data.courses[0].pop("locale", None)
    integration = make_integration(sandbox)
    run_sync(integration)
    course = Course.objects.get(external_id=str(sandbox.data.courses[0]["id"]))
    assert course.lang == "fr"  # the owner fixture's learner language


def test_two_triggers_give_one_run_and_one_skipped(make_udemy_sandbox, make_integration):
    sandbox = make_udemy_sandbox(courses=10, paths=0, learners=1)
    integration = make_integration(sandbox)
    first = sync_request(integration=integration, kind="content", trigger="manual")
    second = sync_request(integration=integration, kind="content", trigger="manual")
    assert first.status == SyncRun.Status.QUEUED
    assert second.status == SyncRun.Status.SKIPPED
    assert "already running" in second.error_summary


def test_a_run_holding_the_lease_makes_a_concurrent_execution_skip(
    make_udemy_sandbox, make_integration
):
    from integrations.core.lease import acquire
    from integrations.models import SyncLease
    from integrations.services.sync import sync_execute

    sandbox = make_udemy_sandbox(courses=10, paths=0, learners=1)
    integration = make_integration(sandbox)
    assert acquire(SyncLease, integration=integration, kind="content", holder="run:other")
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    run = sync_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SKIPPED
    assert sandbox.request_log == []


def test_bad_credentials_fail_the_run_at_once_with_the_admin_message(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=10, paths=0, learners=1)
    integration = make_integration(sandbox, client_secret="wrong-secret")
    run = run_sync(integration)
    assert run.status == SyncRun.Status.FAILED
    assert "rejected the credentials" in run.error_summary
    assert len(sandbox.request_log) == 1
    integration.refresh_from_db()
    assert integration.status == "error"


def test_progress_is_kept_per_stream_from_the_start(
    make_udemy_sandbox, make_integration, run_sync, settings
):
    """Every stream is listed as soon as the run starts, each with the total of its own first
    page: a stream never read shows as such, and the run does not read 100 %."""
    settings.UDEMY_MAX_RETRIES = 1
    sandbox = make_udemy_sandbox(courses=250, paths=12, learners=1)
    integration = make_integration(sandbox, sync_learning_paths=True)
    sandbox.fail(path_contains="learning-paths", status=503, times=10)
    run = run_sync(integration)
    assert run.status in (SyncRun.Status.PARTIAL, SyncRun.Status.FAILED)
    assert [(s.name, s.done, s.total, s.complete) for s in run.streams] == [
        ("courses", 250, 250, True),
        ("learning_paths", 0, None, False),
    ]
    # Weighed by items: the 250 courses are nearly all of it, but a stream never read keeps
    # the bar below 100 (it used to read 50 %: each stream weighed the same).
    assert run.progress_percent == 99

    sandbox.reset_faults()
    again = run_sync(integration)
    assert [(s.name, s.done, s.total, s.complete) for s in again.streams] == [
        ("courses", 250, 250, True),
        ("learning_paths", 12, 12, True),
    ]
    assert again.progress_percent == 100


def test_progress_weighs_streams_by_items_and_expects_what_the_last_run_read(
    make_udemy_sandbox, make_integration, run_sync
):
    """1,500 of 1,500 courses done and 0 of 12 paths is 99 %, not 50 %; 800 of 1,500 courses
    with the paths still to read counts the 12 paths the last run read."""
    sandbox = make_udemy_sandbox(courses=150, paths=12, learners=1)
    integration = make_integration(sandbox, sync_learning_paths=True)
    previous = run_sync(integration)
    assert previous.status == SyncRun.Status.SUCCEEDED
    run = SyncRun.objects.create(
        integration=integration, kind="content", trigger=SyncRun.Trigger.MANUAL
    )
    from integrations.services.paging import streams_declare

    class _Stream:
        def __init__(self, name: str, label: str) -> None:
            self.name, self.label = name, label

    streams_declare(
        run=run,
        streams=[_Stream("courses", "Courses"), _Stream("learning_paths", "Learning paths")],
    )
    run.refresh_from_db()
    assert run.stream_progress["learning_paths"]["expected"] == 12
    run.status = SyncRun.Status.RUNNING
    run.stream_progress["courses"].update(done=1500, total=1500, complete=True)
    assert run.progress_percent == 99  # 1,500 of 1,512
    run.stream_progress["courses"].update(done=800, complete=False)
    assert run.progress_percent == 52  # 800 of 1,512, not 26 %
