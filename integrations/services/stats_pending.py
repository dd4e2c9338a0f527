"""Statistics rows of courses not yet in the catalog: kept, and applied once the course arrives.

A report can name a course the content sync has not brought yet. Such a row (of a matched
learner) is kept as a `PendingStatistic`, one per course and learner, the latest row winning;
`pending_apply`, after each sync, applies those whose course has since arrived.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from integrations.core.bulk_writes import bulk_insert
from integrations.core.records import StatRecord
from integrations.models import Integration, PendingStatistic, SyncRun
from integrations.providers.base import StatRow

from .attempts import attempts_apply
from .stats_audience import audience_of, matched_only
from .stats_lookup import course_ids, learner_ids


def keep_pending(integration: Integration, rows: list[StatRow]) -> None:
    """Keep `rows` (whose course is not in the catalog) for a later run."""
    pending = {
        (r.record.external_course_id, r.record.email_key): PendingStatistic(
            integration=integration,
            external_course_id=r.record.external_course_id,
            email=r.record.email_key,
            payload=_row_json(r),
        )
        for r in rows
    }
    bulk_insert(
        list(pending.values()),
        unique_fields=["integration", "external_course_id", "email"],
        update_fields=["payload"],
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


def pending_apply(*, run: SyncRun) -> int:
    """Apply kept statistics whose course has since arrived in the catalog; returns how many."""
    integration = run.integration
    pending = list(PendingStatistic.objects.filter(integration=integration))
    if not pending:
        return 0
    rows = [_row_from_json(p.payload) for p in pending]
    records = [r.record for r in rows]
    learners, _outside = matched_only(learner_ids(records, audience_of(integration)))
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
