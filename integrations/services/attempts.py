"""A page of statistics rows into learners' attempts, in a constant number of statements.

360Learning rules (360Learning "Statistics synchronization"): the row goes to the learner's
latest attempt on the course, its minutes to the first one ("time spent is applied only to the
first recorded attempt"); a course started and not finished is an *opened* attempt; a learner
only enrolled gets none; a launch from the platform is closed at once and stays closed, the
next sync bringing its figures (`catalog.services.attempt_launch`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import NamedTuple

from catalog.models import Attempt
from integrations.core.bulk_reads import instances_where
from integrations.core.bulk_writes import bulk_update, insert_rows
from integrations.core.records import StatRecord
from integrations.providers.base import StatRow

ATTEMPT_FIELDS = [
    "first_activity",
    "last_activity",
    "completed_at",
    "progress",
    "time_spent_ms",
    "is_open",
    "fingerprint",
]


class AttemptCounts(NamedTuple):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_started: int = 0  # rows of learners only enrolled: no attempt to update, none created


def stat_fingerprint(record: StatRecord, *, first_attempt: bool) -> str:
    return hashlib.sha256(f"{record.fingerprint}:{first_attempt}".encode()).hexdigest()


def as_row(item: StatRow | StatRecord) -> StatRow:
    return item if isinstance(item, StatRow) else StatRow(record=item, ratio=item.progress)


Pair = tuple[int, int]  # (learner id, course id)


def attempt_pairs(
    records: Sequence[StatRow | StatRecord], learner_ids: dict[str, int], course_ids: dict[str, int]
) -> dict[Pair, StatRow]:
    """The page's rows by (learner, course): the last row of a pair is the one applied."""
    rows = [as_row(item) for item in records]
    return {
        (learner_ids[r.record.email_key], course_ids[r.record.external_course_id]): r for r in rows
    }


def attempts_lookup(pairs: Collection[Pair]) -> list[Attempt]:
    """The stored attempts of these pairs (and of other pairs of their learners and courses),
    by number."""
    if not pairs:
        return []
    learners, courses = {p[0] for p in pairs}, {p[1] for p in pairs}
    return instances_where(
        Attempt, any_of={"learner_id": learners, "course_id": courses}, order_by=("number",)
    )


def attempts_apply(
    *,
    records: Sequence[StatRow | StatRecord],
    learner_ids: dict[str, int],
    course_ids: dict[str, int],
    stored: list[Attempt] | None = None,
    stale: Collection[Pair] = (),
) -> AttemptCounts:
    """Create or update the attempts of a page of statistics (a constant number of statements).

    The row goes to the learner's latest attempt on the course; its minutes to the first one.
    A learner who has not started (only enrolled) gets no attempt: none is created, and an
    opened attempt holding nothing but what such a row gives is removed.

    `stored`: the page's attempts as `attempts_lookup` read them before the page before it was
    committed; the pairs that page wrote (`stale`) are read again."""
    pairs = attempt_pairs(records, learner_ids, course_ids)
    if not pairs:
        return AttemptCounts()
    if stored is None:
        stored = attempts_lookup(pairs)
    elif again := {pair for pair in stale if pair in pairs}:
        stored = [a for a in stored if (a.learner_id, a.course_id) not in again]
        # By number within each pair, as before (the lookup also finds other pairs of the
        # same learners and courses: those are in `stored` already).
        stored += [a for a in attempts_lookup(again) if (a.learner_id, a.course_id) in again]
    first: dict[tuple[int, int], Attempt] = {}
    latest: dict[tuple[int, int], Attempt] = {}
    for attempt in stored:
        pair = (attempt.learner_id, attempt.course_id)
        first.setdefault(pair, attempt)
        latest[pair] = attempt
    to_create: list[dict] = []
    to_update, to_delete, unchanged, not_started = [], [], 0, 0
    for pair, row in pairs.items():
        if not row.started and (pair not in latest or _holds_nothing(first[pair], latest[pair])):
            not_started += 1
            if pair in latest:
                to_delete.append(latest[pair].pk)
            continue
        if pair not in latest:
            to_create.append({"learner_id": pair[0], "course_id": pair[1], "number": 1,
                              **_first_attempt(row.record)})  # fmt: skip
            continue
        changed = _attempt_changes(first[pair], latest[pair], row.record)
        to_update.extend(changed)
        unchanged += not changed
    insert_rows(Attempt, to_create, returning=False)
    bulk_update(to_update, ATTEMPT_FIELDS)
    if to_delete:
        Attempt.objects.filter(pk__in=to_delete).delete()
    updated = len({(a.learner_id, a.course_id) for a in to_update})
    return AttemptCounts(len(to_create), updated, unchanged, not_started)


def _holds_nothing(first: Attempt, latest: Attempt) -> bool:
    """The learner's only attempt is an opened one from statistics with no progress, minutes
    nor completion: what a row of a learner only enrolled would have made of it."""
    return (
        first.pk == latest.pk
        and latest.source == Attempt.Source.PROVIDER
        and latest.is_open
        and not (latest.progress or latest.time_spent_ms or latest.completed_at)
    )


def _attempt_changes(first: Attempt, latest: Attempt, record: StatRecord) -> list[Attempt]:
    """The attempts a row changes: the latest (its statistics) and, after a relaunch, the
    first (360Learning: time spent is applied only to the first recorded attempt)."""
    changed = []
    is_first = latest.pk == first.pk
    if latest.fingerprint != stat_fingerprint(record, first_attempt=is_first):
        _apply_stat(latest, record, first=is_first)
        changed.append(latest)
    if not is_first and first.time_spent_ms != record.time_spent_ms:
        first.time_spent_ms = record.time_spent_ms
        changed.append(first)
    return changed


def _first_attempt(record: StatRecord) -> dict:
    """A new attempt's values (what `_apply_stat` sets on one from statistics, the first)."""
    return {
        "progress": record.progress,
        "time_spent_ms": record.time_spent_ms,
        "first_activity": record.first_activity,
        "last_activity": record.last_activity,
        "completed_at": record.completed_at,
        "is_open": record.completed_at is None,
        "fingerprint": stat_fingerprint(record, first_attempt=True),
    }


def _apply_stat(attempt: Attempt, record: StatRecord, *, first: bool) -> None:
    attempt.progress = record.progress
    # 360Learning rule: time spent is applied only to the first recorded attempt.
    attempt.time_spent_ms = record.time_spent_ms if first else 0
    if attempt.source == Attempt.Source.LAUNCH:
        _apply_to_launch(attempt, record)
    else:
        attempt.first_activity = record.first_activity or attempt.first_activity
        attempt.last_activity = record.last_activity or attempt.last_activity
        attempt.completed_at = record.completed_at
        attempt.is_open = record.completed_at is None
    attempt.fingerprint = stat_fingerprint(record, first_attempt=first)


def _apply_to_launch(attempt: Attempt, record: StatRecord) -> None:
    """Launched from the platform: closed at once, and it stays closed. The sync brings the
    figures, but what Udemy dates before the launch belongs to the earlier attempt: its first
    activity stays the launch's (or the opened attempt's it closed), its completion stays the
    launch unless Udemy reports one after it — so a completion before a relaunch is never
    counted twice."""
    launched = attempt.launched_at
    attempt.first_activity = attempt.first_activity or record.first_activity
    attempt.last_activity = max(
        (d for d in (attempt.last_activity, record.last_activity) if d), default=None
    )
    if record.completed_at and (launched is None or record.completed_at >= launched):
        attempt.completed_at = record.completed_at
    attempt.is_open = False
