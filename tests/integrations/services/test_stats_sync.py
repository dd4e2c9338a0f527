"""Statistics sync against the Udemy sandbox (issue [4]); each test names the 360Learning rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Attempt, Course, Learner
from catalog.services import attempt_launch
from integrations.core.records import StatRecord
from integrations.models import PendingStatistic, SyncError, SyncPage, SyncRun
from integrations.services.attempts import (
    ATTEMPT_FIELDS,
    _apply_stat,
    _first_attempt,
    attempts_apply,
    attempts_lookup,
)
from integrations.services.pipeline import WRITE_AHEAD
from integrations.services.stats_lookup import RememberedIds
from integrations.services.stats_sync import _LastPages
from tests.factories import AttemptFactory
from tests.integrations.services.audience import register

pytestmark = pytest.mark.django_db

ANONYMIZED = "anonymized user"


def _register(emails) -> None:
    register(emails)  # members of the integration's group: they see its catalog


def _rows(sandbox, predicate):
    return [r for r in sandbox.data.activity if predicate(r)]


@pytest.fixture
def synced(make_udemy_sandbox, make_integration, run_sync):
    """A sandbox organization whose catalog is synced and whose learners all exist."""
    sandbox = make_udemy_sandbox(courses=60, paths=0, learners=30)
    integration = make_integration(sandbox)
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    _register(sandbox.data.learner_emails)
    return sandbox, integration


def _attempt(row) -> Attempt:
    return Attempt.objects.get(
        learner__email__iexact=row["user_email"], course__external_id=str(row["course_id"])
    )


def test_learners_are_matched_by_email_case_insensitively(synced, run_sync):
    """360Learning rule: the same email on both sides; matching ignores case."""
    sandbox, integration = synced
    mixed = _rows(
        sandbox,
        lambda r: (
            r["user_email"] != r["user_email"].lower() and r["user_email"].lower() != ANONYMIZED
        ),
    )
    assert mixed, "the sandbox must serve mixed-case emails"
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert run.unmatched_learners == 0
    assert _attempt(mixed[0]).learner.email == mixed[0]["user_email"].lower()


def test_unmatched_and_anonymized_rows_are_counted_and_listed(
    make_udemy_sandbox, make_integration, run_sync
):
    """Nothing silently dropped: unknown emails are listed, anonymized rows counted apart."""
    sandbox = make_udemy_sandbox(courses=60, paths=0, learners=30)
    integration = make_integration(sandbox)
    run_sync(integration)
    known = sandbox.data.learner_emails[:10]
    _register(known)
    run = run_sync(integration, "stats")
    rows = sandbox.data.activity
    anonymized = [r for r in rows if r["user_email"].lower() == ANONYMIZED]
    unknown = [
        r
        for r in rows
        if r["user_email"].lower() != ANONYMIZED and r["user_email"].lower() not in set(known)
    ]
    assert anonymized, "the sandbox must serve anonymized rows"
    assert run.anonymized == len(anonymized)
    assert run.unmatched_learners == len(unknown)
    assert set(run.unmatched_emails) == {r["user_email"].lower() for r in unknown}


def test_first_activity_falls_back_to_the_enroll_date(synced, run_sync):
    """360Learning rule: course_start_date, or course_enroll_date when the start date is not
    defined."""
    sandbox, integration = synced
    run_sync(integration, "stats")
    row = _rows(
        sandbox,
        lambda r: (
            not r.get("course_start_date")
            and r.get("course_enroll_date")
            and r.get("course_completion_date")  # completed without a start date
            and r["user_email"].lower() != ANONYMIZED
        ),
    )[0]
    attempt = _attempt(row)
    assert attempt.first_activity.isoformat().startswith(row["course_enroll_date"][:10])


def test_minutes_consumed_become_milliseconds(synced, run_sync):
    """360Learning rule: timeSpentInMilliseconds = num_video_consumed_minutes × 60 × 1000."""
    sandbox, integration = synced
    run_sync(integration, "stats")
    row = _rows(
        sandbox,
        lambda r: (
            (r.get("num_video_consumed_minutes") or 0) > 0 and r["user_email"].lower() != ANONYMIZED
        ),
    )[0]
    assert _attempt(row).time_spent_ms == round(row["num_video_consumed_minutes"] * 60 * 1000)


def test_an_unfinished_course_gets_an_opened_attempt_closed_after_completion(synced, run_sync):
    """360Learning rule: an opened attempt is closed by the first sync after the learner
    finishes."""
    sandbox, integration = synced
    run_sync(integration, "stats")
    assert Attempt.objects.filter(is_open=True).exists()
    moved = sandbox.data.advance_progress(3)
    assert len(moved) == 3
    before = {
        (e.lower(), str(c)): Attempt.objects.get(
            learner__email__iexact=e, course__external_id=str(c)
        ).is_open
        for e, c in moved
    }
    assert all(before.values())
    run = run_sync(integration, "stats")
    assert run.updated >= 3
    for email, course_id in moved:
        attempt = Attempt.objects.get(
            learner__email__iexact=email, course__external_id=str(course_id)
        )
        assert not attempt.is_open
        assert attempt.completed_at is not None
        assert attempt.progress == 100


def test_a_launch_closes_the_attempt_at_zero_then_the_sync_brings_statistics(synced, run_sync):
    """360Learning rule: START marks the course completed with 0 %; the next sync updates it."""
    sandbox, integration = synced
    row = _rows(
        sandbox,
        lambda r: (
            r["user_email"].lower() != ANONYMIZED
            and not r.get("course_completion_date")
            and (r.get("completion_ratio") or 0) > 0
        ),
    )[0]
    learner = Learner.objects.get(email__iexact=row["user_email"])
    course = Course.objects.get(external_id=str(row["course_id"]), kind="course")
    attempt = attempt_launch(learner=learner, course=course)
    assert (attempt.is_open, attempt.progress, attempt.completed_at is not None) == (False, 0, True)
    run_sync(integration, "stats")
    attempt.refresh_from_db()
    assert attempt.progress > 0
    assert attempt.is_open is False  # launched attempts stay closed for programs and paths


def test_time_spent_goes_to_the_first_recorded_attempt_only(synced):
    """360Learning rule: Time spent is applied only to the first recorded attempt."""
    _sandbox, integration = synced
    course = Course.objects.filter(integration=integration).first()
    learner = Learner.objects.first()
    AttemptFactory(learner=learner, course=course, number=1, is_open=False)
    second = AttemptFactory(learner=learner, course=course, number=2, is_open=True)
    record = StatRecord(
        external_course_id=course.external_id,
        email=learner.email,
        email_key=learner.email.lower(),
        is_anonymized=False,
        first_activity=None,
        last_activity=None,
        completed_at=None,
        progress=40.0,
        time_spent_ms=600000,
    )
    attempts_apply(
        records=[record],
        learner_ids={learner.email.lower(): learner.pk},
        course_ids={course.external_id: course.pk},
    )
    second.refresh_from_db()
    assert second.progress == 40.0
    assert second.time_spent_ms == 0


def test_rerunning_with_the_same_report_changes_nothing(synced, run_sync):
    _sandbox, integration = synced
    first = run_sync(integration, "stats")
    assert first.created > 0
    with CaptureQueriesContext(connection) as queries:
        second = run_sync(integration, "stats")
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "catalog_attempt" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []


def test_rows_for_a_course_not_yet_synced_are_kept_and_applied_later(
    make_udemy_sandbox, make_integration, run_sync
):
    """Never lost: statistics arriving before their course are applied once it exists."""
    sandbox = make_udemy_sandbox(courses=60, paths=0, learners=30)
    integration = make_integration(sandbox)
    _register(sandbox.data.learner_emails)
    stats = run_sync(integration, "stats")
    assert stats.pending > 0
    assert PendingStatistic.objects.filter(integration=integration).count() > 0
    assert Attempt.objects.count() == 0
    run_sync(integration, "content")
    assert PendingStatistic.objects.filter(integration=integration).count() == 0
    assert Attempt.objects.count() > 0


def test_bad_rows_become_sync_errors_and_the_run_goes_on(synced, run_sync):
    sandbox, integration = synced
    named = _rows(sandbox, lambda r: r["user_email"].lower() != ANONYMIZED)
    named[0]["num_video_consumed_minutes"] = -5
    named[1]["course_last_accessed_date"] = "not a date"
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.PARTIAL
    assert run.failed == 2
    categories = set(SyncError.objects.filter(run=run).values_list("category", flat=True))
    assert categories == {"invalid_value", "invalid_date"}
    assert run.created > 0


@pytest.mark.slow
def test_sql_statements_per_page_are_bounded_for_20000_rows(
    make_udemy_sandbox, make_integration, run_sync
):
    counts = {}
    for learners in (400, 4000):  # 5 rows each: 2,000 and 20,000 activity rows
        sandbox = make_udemy_sandbox(
            courses=100, paths=0, learners=learners, activity_per_learner=5
        )
        integration = make_integration(sandbox)
        run_sync(integration)
        _register(sandbox.data.learner_emails)
        with CaptureQueriesContext(connection) as queries:
            run = run_sync(integration, "stats")
        assert run.fetched == len(sandbox.data.activity)
        pages = -(-run.fetched // 100)
        counts[learners] = (len(queries.captured_queries), pages)
    small, large = counts[400], counts[4000]
    assert large[0] / large[1] <= small[0] / small[1] + 1
    assert large[0] / large[1] < 25, counts


@pytest.mark.parametrize("completed", [None, datetime(2026, 2, 3, 4, 5, tzinfo=UTC)])
def test_a_new_attempt_holds_what_applying_its_first_row_would_set(completed) -> None:
    """New attempts are inserted as rows (no model instance): the same values as an attempt
    given its first statistics row by `_apply_stat`."""
    record = StatRecord(
        external_course_id="1", email="a@x.test", email_key="a@x.test", is_anonymized=False,
        first_activity=datetime(2026, 1, 2, tzinfo=UTC), last_activity=None,
        completed_at=completed, progress=12.5, time_spent_ms=60_000,
    )  # fmt: skip
    applied = Attempt(number=1)
    _apply_stat(applied, record, first=True)
    inserted = _first_attempt(record)
    assert inserted == {name: getattr(applied, name) for name in inserted}
    assert set(inserted) == set(ATTEMPT_FIELDS)


def test_remembered_ids_ask_once_per_key_hits_and_misses_alike() -> None:
    asked: list[set[str]] = []

    def lookup(keys: set[str]) -> dict[str, int]:
        asked.append(set(keys))
        return {k: int(k[1:]) for k in keys if k.startswith("a")}

    ids = RememberedIds(lookup, limit=3)
    assert ids({"a1", "b2"}) == {"a1": 1}
    assert ids({"a1", "b2", "a3"}) == {"a1": 1, "a3": 3}
    assert asked == [{"a1", "b2"}, {"a3"}]  # "b2", a miss, is not asked again
    assert ids({"a4", "a5"}) == {"a4": 4, "a5": 5}  # beyond the limit: the oldest go
    assert len(ids.known) == 3
    assert ids({"a1"}) == {"a1": 1}  # forgotten, asked again, still right
    assert asked[-1] == {"a1"}
    assert ids(set()) == {} and asked[-1] == {"a1"}


def test_remembered_ids_read_everything_once_when_it_fits() -> None:
    asked: list[object] = []

    def lookup(keys: set[str]) -> dict[str, int]:
        asked.append(set(keys))
        return {k: int(k[1:]) for k in keys if k.startswith("a")}

    def everything(limit: int) -> dict[str, int] | None:
        asked.append(limit)
        rows = {"a1": 1, "a2": 2, "a3": 3}
        return rows if len(rows) <= limit else None

    ids = RememberedIds(lookup, limit=3, everything=everything)
    assert ids({"a1", "b9"}) == {"a1": 1}
    assert ids({"a2", "a3", "b8"}) == {"a2": 2, "a3": 3}
    assert asked == [3]  # one read of all of them; a miss is a miss, never asked
    too_many = RememberedIds(lookup, limit=2, everything=everything)
    assert too_many({"a1", "b9"}) == {"a1": 1}
    assert too_many({"a1"}) == {"a1": 1}
    assert asked == [3, 2, {"a1", "b9"}]  # they did not fit: asked key by key, remembered


def test_a_statistics_sync_reads_its_learners_and_courses_once_when_they_fit(
    synced, run_sync
) -> None:
    """A report names every learner: all are read in one statement, and the catalog's
    courses in one, instead of a lookup per page."""
    _sandbox, integration = synced
    with CaptureQueriesContext(connection) as queries:
        run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED and run.created > 0
    pages = SyncPage.objects.filter(run=run).count()
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    learners = [sql for sql in reads if 'FROM "catalog_learner"' in sql]
    courses = [sql for sql in reads if 'FROM "catalog_course"' in sql]
    assert pages >= 2
    assert (len(learners), len(courses)) == (1, 1), [*learners, *courses]


def test_the_writer_reads_again_the_pairs_of_the_pages_it_may_hold() -> None:
    """A page is looked up while the writer may hold `WRITE_AHEAD` pages: the pairs of that
    many pages written last are read again, no more."""
    last = _LastPages()
    for pairs in ({(1, 1)}, {(2, 2)}, {(3, 3), (2, 2)}):
        last.written(pairs)
    assert WRITE_AHEAD == 2 and last.pairs() == {(2, 2), (3, 3)}


def test_a_page_looked_up_before_the_page_before_was_committed_reads_its_pairs_again(
    synced,
) -> None:
    """Page N + 1's attempts are looked up while page N is being committed: a pair page N
    wrote is read again by the writer, so it is updated, never inserted twice."""
    _sandbox, integration = synced
    course = Course.objects.filter(integration=integration).first()
    learner = Learner.objects.first()
    ids = {"learner_ids": {learner.email.lower(): learner.pk},
           "course_ids": {course.external_id: course.pk}}  # fmt: skip

    def row(progress: float) -> StatRecord:
        return StatRecord(
            external_course_id=course.external_id, email=learner.email,
            email_key=learner.email.lower(), is_anonymized=False, first_activity=None,
            last_activity=None, completed_at=None, progress=progress, time_spent_ms=60_000,
        )  # fmt: skip

    looked_up_early = attempts_lookup({(learner.pk, course.pk)})  # before page N's commit
    assert looked_up_early == []
    assert attempts_apply(records=[row(10.0)], **ids).created == 1  # page N
    counts = attempts_apply(  # page N + 1, same pair
        records=[row(20.0)], **ids, stored=looked_up_early, stale={(learner.pk, course.pk)}
    )
    assert (counts.created, counts.updated) == (0, 1)
    (attempt,) = Attempt.objects.filter(learner=learner, course=course)
    assert attempt.progress == 20.0
