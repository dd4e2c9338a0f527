"""Statistics rows of courses not yet in the catalog: kept, and applied once the course arrives.

A report can name a course the content sync has not brought yet. Such a row (of a matched
learner) is kept as a `PendingStatistic`, one per course and learner, the latest row winning;
`pending_apply`, after each sync, applies those whose course has since arrived.

Bounded: a row is dropped `STATS_PENDING_MAX_AGE_DAYS` after the last report that named it (its
course never came), and an integration keeps at most `STATS_PENDING_MAX_ROWS` of them: a row
naming a new course and learner past that is not kept, and counted in the run's "not kept"
warning (a newer row for one already kept still replaces it). The cap is checked by each page
writer: the workers of a split report may each add one page's rows beyond it. Kept rows are read
back `PENDING_BATCH` at a time, so memory does not grow with their number.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.core.bulk_writes import bulk_insert
from integrations.core.records import StatRecord
from integrations.models import Integration, PendingStatistic, SyncRun
from integrations.providers.base import StatRow

from .attempts import attempts_apply
from .run_warnings import add_to_warning
from .stats_audience import Audience, audience_of, matched_only
from .stats_lookup import course_ids, learner_ids

logger = logging.getLogger(__name__)

PENDING_BATCH = 1000
NOT_KEPT_WARNING = "pending_not_kept"


def keep_pending(integration: Integration, rows: list[StatRow]) -> tuple[int, int]:
    """Keep `rows` (whose course is not in the catalog) for a later run, within the
    integration's cap; returns how many are kept and how many are not (the caller counts those
    with `pending_not_kept`)."""
    now = timezone.now()
    pending = {
        (r.record.external_course_id, r.record.email_key): PendingStatistic(
            integration=integration,
            external_course_id=r.record.external_course_id,
            email=r.record.email_key,
            payload=_row_json(r),
            last_seen=now,
        )
        for r in rows
    }
    kept = _within_cap(integration, pending)
    bulk_insert(
        kept,
        unique_fields=["integration", "external_course_id", "email"],
        update_fields=["payload", "last_seen"],
    )
    return len(kept), len(pending) - len(kept)


def _within_cap(
    integration: Integration, pending: dict[tuple[str, str], PendingStatistic]
) -> list[PendingStatistic]:
    """The rows of `pending` the cap lets in: those already kept (updated), then new ones while
    there is room."""
    held = PendingStatistic.objects.filter(integration=integration)
    room = settings.STATS_PENDING_MAX_ROWS - held.count()
    if len(pending) <= room:
        return list(pending.values())
    known = set(
        held.filter(
            external_course_id__in={course for course, _ in pending},
            email__in={email for _, email in pending},
        ).values_list("external_course_id", "email")
    )
    fresh = [row for key, row in pending.items() if key not in known]
    return [row for key, row in pending.items() if key in known] + fresh[: max(room, 0)]


def pending_not_kept(run: SyncRun, rows: int) -> None:
    """Add `rows` to the run's "not kept" warning (under a row lock held to the page's commit:
    take it last)."""
    add_to_warning(
        run,
        code=NOT_KEPT_WARNING,
        rows=rows,
        message=lambda count: (
            f"{count} statistics rows of courses not in the catalog yet were "
            f"not kept for later: this integration already keeps the most it may "
            f"({settings.STATS_PENDING_MAX_ROWS}). A later report naming them again, once their "
            "course has arrived, applies them."
        ),
    )


def _row_json(row: StatRow) -> dict:
    data = asdict(row.record)
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
    if not row.started:
        data["started"] = False
    return data


def _row_from_json(data: dict) -> StatRow:
    values = dict(data)
    started = values.pop("started", True)
    for key in ("first_activity", "last_activity", "completed_at"):
        if values.get(key):
            values[key] = datetime.fromisoformat(values[key])
    record = StatRecord(**values)
    return StatRow(record=record, ratio=record.progress, started=started)


def pending_expire(integration: Integration) -> int:
    """Drop the kept rows no report has named for `STATS_PENDING_MAX_AGE_DAYS`; returns how
    many (one statement)."""
    cutoff = timezone.now() - timedelta(days=settings.STATS_PENDING_MAX_AGE_DAYS)
    dropped, _ = PendingStatistic.objects.filter(
        integration=integration, last_seen__lt=cutoff
    ).delete()
    if dropped:
        logger.info(
            "integration %s: %d kept statistics rows dropped, their course never arrived in "
            "%d days",
            integration.pk,
            dropped,
            settings.STATS_PENDING_MAX_AGE_DAYS,
        )
    return dropped


def pending_apply(*, run: SyncRun) -> int:
    """Drop the expired kept statistics, then apply those whose course has since arrived in
    the catalog, `PENDING_BATCH` at a time (each batch in its own transaction); returns how
    many were applied."""
    integration = run.integration
    pending_expire(integration)
    audience = audience_of(integration)
    applied, after = 0, 0
    while True:
        batch = list(
            PendingStatistic.objects.filter(integration=integration, pk__gt=after).order_by("pk")[
                :PENDING_BATCH
            ]
        )
        if not batch:
            return applied
        after = batch[-1].pk
        with transaction.atomic():
            applied += _apply_batch(integration, batch, audience)


def _apply_batch(
    integration: Integration, pending: list[PendingStatistic], audience: Audience
) -> int:
    rows = [_row_from_json(p.payload) for p in pending]
    records = [r.record for r in rows]
    learners, _outside = matched_only(learner_ids(records, audience))
    courses = course_ids(integration, records)
    ready = [
        (p, r)
        for p, r in zip(pending, rows, strict=True)
        if r.record.external_course_id in courses and r.record.email_key in learners
    ]
    if not ready:
        return 0
    attempts_apply(records=[r for _, r in ready], learner_ids=learners, course_ids=courses)
    PendingStatistic.objects.filter(pk__in=[p.pk for p, _ in ready]).delete()
    return len(ready)
