"""The daily statistics sync: Udemy user-course-activity rows into learners' attempts.

360Learning rule (360Learning "Statistics synchronization"):
- learners are matched by e-mail, case-insensitively; the same address is needed on both sides;
- time spent goes to the first recorded attempt only;
- a course started on Udemy and not finished gets an *opened* attempt, closed by the first sync
  after completion;
- a launch from the platform closes an attempt at once with 0 %; the next sync updates its
  statistics (progress, dates, time) and keeps it closed.
Rows of unknown learners are counted and listed; rows of courses not yet in the catalog are kept
as `PendingStatistic` and applied by a later run. Re-running with the same report writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict
from functools import partial

from django.db.models.functions import Lower

from integrations.core.records import StatRecord
from integrations.models import Integration, PendingStatistic, SyncRun
from integrations.providers.base import Stream
from lmsbridge.catalog.models import Attempt, Course, Learner

from .paging import run_stream
from .planner import PlannerStatistics, refreshing

UNMATCHED_LIST_LIMIT = 1000
ATTEMPT_FIELDS = [
    "first_activity",
    "last_activity",
    "completed_at",
    "progress",
    "time_spent_ms",
    "is_open",
    "fingerprint",
]


def stats_sync(*, run: SyncRun, stream: Stream, on_page: Callable[[], None] | None = None) -> None:
    writer = partial(_write_stats, run=run, integration=run.integration)
    on_page = refreshing(on_page, PlannerStatistics(Attempt), lambda: run.created)
    run_stream(run=run, stream=stream, writer=writer, on_page=on_page)


def _write_stats(records: list[StatRecord], *, run: SyncRun, integration: Integration) -> dict:
    anonymized = [r for r in records if r.is_anonymized]
    named = [r for r in records if not r.is_anonymized]
    learners = _learner_ids(named)
    courses = _course_ids(integration, named)
    unmatched = sorted({r.email_key for r in named if r.email_key not in learners})
    if unmatched:
        _remember_unmatched(run, unmatched)
    applicable = [r for r in named if r.email_key in learners]
    pending = [r for r in applicable if r.external_course_id not in courses]
    if pending:
        _keep_pending(integration, pending)
    ready = [r for r in applicable if r.external_course_id in courses]
    created, updated, unchanged = attempts_apply(
        records=ready, learner_ids=learners, course_ids=courses
    )
    return {
        "anonymized": len(anonymized),
        "unmatched_learners": len([r for r in named if r.email_key not in learners]),
        "pending": len(pending),
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
    }


def _learner_ids(records: list[StatRecord]) -> dict[str, int]:
    keys = {r.email_key for r in records}
    if not keys:
        return {}
    rows = (
        Learner.objects.annotate(email_key=Lower("email"))
        .filter(email_key__in=keys, is_active=True)
        .values_list("email_key", "id")
    )
    return dict(rows)


def _course_ids(integration: Integration, records: list[StatRecord]) -> dict[str, int]:
    ids = {r.external_course_id for r in records}
    if not ids:
        return {}
    # Archived courses keep their statistics: match them too.
    return dict(
        Course.objects.filter(integration=integration, kind=Course.Kind.COURSE, external_id__in=ids)
        .order_by()
        .values_list("external_id", "id")
    )


def _remember_unmatched(run: SyncRun, emails: list[str]) -> None:
    known = set(run.unmatched_emails)
    fresh = [e for e in emails if e not in known]
    if fresh and len(known) < UNMATCHED_LIST_LIMIT:
        run.unmatched_emails = [*run.unmatched_emails, *fresh][:UNMATCHED_LIST_LIMIT]
        SyncRun.objects.filter(pk=run.pk).update(unmatched_emails=run.unmatched_emails)


def _keep_pending(integration: Integration, records: list[StatRecord]) -> None:
    rows = {
        (r.external_course_id, r.email_key): PendingStatistic(
            integration=integration,
            external_course_id=r.external_course_id,
            email=r.email_key,
            payload=_record_json(r),
        )
        for r in records
    }
    PendingStatistic.objects.bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["integration", "external_course_id", "email"],
        update_fields=["payload"],
    )


def _record_json(record: StatRecord) -> dict:
    data = asdict(record)
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
    return data


def stat_fingerprint(record: StatRecord, *, first_attempt: bool) -> str:
    return hashlib.sha256(f"{record.fingerprint}:{first_attempt}".encode()).hexdigest()


def attempts_apply(
    *, records: list[StatRecord], learner_ids: dict[str, int], course_ids: dict[str, int]
) -> tuple[int, int, int]:
    """Create or update the attempts of a page of statistics; returns (created, updated, same)."""
    pairs = {(learner_ids[r.email_key], course_ids[r.external_course_id]): r for r in records}
    if not pairs:
        return 0, 0, 0
    latest: dict[tuple[int, int], Attempt] = {}
    existing = Attempt.objects.filter(
        learner_id__in={p[0] for p in pairs}, course_id__in={p[1] for p in pairs}
    ).order_by("number")
    for attempt in existing:
        latest[(attempt.learner_id, attempt.course_id)] = attempt
    to_create, to_update, unchanged = [], [], 0
    for pair, record in pairs.items():
        attempt = latest.get(pair)
        if attempt is None:
            attempt = Attempt(learner_id=pair[0], course_id=pair[1], number=1)
            _apply_stat(attempt, record)
            to_create.append(attempt)
        elif attempt.fingerprint == stat_fingerprint(record, first_attempt=attempt.number == 1):
            unchanged += 1
        else:
            _apply_stat(attempt, record)
            to_update.append(attempt)
    if to_create:
        Attempt.objects.bulk_create(to_create)
    if to_update:
        Attempt.objects.bulk_update(to_update, ATTEMPT_FIELDS)
    return len(to_create), len(to_update), unchanged


def _apply_stat(attempt: Attempt, record: StatRecord) -> None:
    first = attempt.number == 1
    attempt.first_activity = record.first_activity or attempt.first_activity
    attempt.last_activity = record.last_activity or attempt.last_activity
    attempt.progress = record.progress
    # 360Learning rule: time spent is applied only to the first recorded attempt.
    attempt.time_spent_ms = record.time_spent_ms if first else 0
    if attempt.source == Attempt.Source.LAUNCH:
        # Launched from the platform: closed at once; the sync brings the statistics and
        # Udemy's completion date when there is one, but never reopens it.
        attempt.completed_at = record.completed_at or attempt.completed_at
        attempt.is_open = False
    else:
        attempt.completed_at = record.completed_at
        attempt.is_open = record.completed_at is None
    attempt.fingerprint = stat_fingerprint(record, first_attempt=first)


def _record_from_json(data: dict) -> StatRecord:
    from datetime import datetime

    values = dict(data)
    for key in ("first_activity", "last_activity", "completed_at"):
        if values.get(key):
            values[key] = datetime.fromisoformat(values[key])
    return StatRecord(**values)


def pending_apply(*, run: SyncRun) -> int:
    """Apply kept statistics whose course has since arrived in the catalog; returns how many."""
    integration = run.integration
    pending = list(PendingStatistic.objects.filter(integration=integration))
    if not pending:
        return 0
    records = [_record_from_json(p.payload) for p in pending]
    learners = _learner_ids(records)
    courses = _course_ids(integration, records)
    ready = [
        (p, r)
        for p, r in zip(pending, records, strict=True)
        if r.external_course_id in courses and r.email_key in learners
    ]
    if not ready:
        return 0
    attempts_apply(records=[r for _, r in ready], learner_ids=learners, course_ids=courses)
    PendingStatistic.objects.filter(pk__in=[p.pk for p, _ in ready]).delete()
    return len(ready)
