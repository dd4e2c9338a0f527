"""Stored xAPI statements applied to attempts, a batch at a time.

The attempt rules are the statistics sync's (`services.attempts`, 360Learning "Statistics
synchronization"): the figures go to the learner's latest attempt on the item, a first
attempt is created when there is none, a launch from the platform stays closed. What xAPI
adds, because statements repeat and arrive out of order (xAPI 1.0.3; Oracle Learning
"Handling Udemy Business Completions"):
- progress never moves backwards for a statement older than the attempt's last activity,
  and a completed attempt keeps its completion (and its 100 %);
- time spent is left alone: xAPI carries no minutes, the daily report brings them;
- an attempt a statement changed loses its statistics fingerprint, so the next daily report
  reconciles it even when its own row did not change.

Matching (a token writes its own integration only): the actor's e-mail to a learner who
sees the integration's catalog (`stats_audience`, case-insensitive), an `account` name to
such a learner's `remote_id` (the id its learning platform gave it, what SSO passes as
`lmsUserId`); the object id to a course or learning path of this integration by its launch
URL, its numeric id, or "path-<id>" (`providers.udemy.xapi.object_keys`). A statement
matching nothing waits, counted, and is tried again by `xapi_waiting_retry`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connections, router
from django.db.models.functions import Lower
from django.utils import timezone

from catalog.models import Attempt, Course, Learner
from integrations.core.bulk_writes import bulk_update, insert_rows
from integrations.core.transactions import batched_transaction, execute_write, relaxed_commits
from integrations.models import Integration, XapiStatement
from integrations.providers.udemy.xapi import (
    StatementError,
    XapiRecord,
    object_keys,
    statement_read,
    url_key,
)

from .attempts import ATTEMPT_FIELDS
from .stats_audience import audience_of, members_of

NO_LEARNER = "No learner who sees this catalog matches the actor."
NO_ITEM = "No synced course or learning path of this integration matches the object id."
State = XapiStatement.State
LOOKUP_PAIRS = 500  # per query of `attempts_latest` (two parameters each)


class ApplyCounts(NamedTuple):
    applied: int = 0
    waiting: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0


def xapi_apply_pending(*, integration_id: int, limit: int | None = None) -> ApplyCounts:
    """Apply up to `limit` pending statements of the integration (oldest first), in one
    transaction; the counts. Call again while it applies a full batch."""
    limit = limit or settings.XAPI_APPLY_BATCH
    integration = Integration.objects.select_related("group").filter(pk=integration_id).first()
    if integration is None:  # deleted since the task was queued: its statements went with it
        return ApplyCounts()
    # The commit need not wait for the disk: the statements were stored durably before the
    # door answered, and a batch a database crash loses is still pending, applied again.
    # Its writes (attempts created and updated, statements marked) go as one round trip on
    # PostgreSQL (`batched_transaction`).
    with relaxed_commits(), batched_transaction():
        # One batch of an integration at a time: two tasks reading the same attempt would each
        # write it back whole, and the later would undo the other's completion (SQLite's
        # transactions are serialized by their IMMEDIATE start already).
        if not Integration.objects.select_for_update().filter(pk=integration_id).values("pk"):
            return ApplyCounts()
        # Plain rows, not model instances: only these three fields are read.
        batch = [
            Row(*values)
            for values in XapiStatement.objects.select_for_update(skip_locked=True)
            .filter(integration_id=integration_id, state=State.PENDING)
            .order_by("id")
            .values_list("pk", "raw", "received_at")[:limit]
        ]
        if not batch:
            return ApplyCounts()
        return _apply_batch(integration, batch)


def xapi_waiting_retry(*, integration_id: int) -> int:
    """Put the integration's waiting statements back in line (after the learners or the
    catalog changed); how many."""
    return XapiStatement.objects.filter(integration_id=integration_id, state=State.WAITING).update(
        state=State.PENDING
    )


def xapi_integrations_with(*, state: str) -> list[int]:
    return list(
        XapiStatement.objects.filter(state=state)
        .order_by()
        .values_list("integration_id", flat=True)
        .distinct()
    )


class Row(NamedTuple):
    pk: int
    raw: dict
    received_at: datetime


def _apply_batch(integration: Integration, batch: list[Row]) -> ApplyCounts:
    records: dict[int, XapiRecord] = {}
    rejected = []
    for row in batch:
        try:
            records[row.pk] = statement_read(row.raw, received=row.received_at)
        except StatementError as exc:  # stored by an older version of the rules
            rejected.append((row, str(exc)))
    learners = _learners(integration, records.values())
    courses = _courses(integration, records.values())
    by_pair: dict[tuple[int, int], list[XapiRecord]] = defaultdict(list)
    waiting = []
    for row in batch:
        record = records.get(row.pk)
        if record is None:
            continue
        learner = learners.get(record.email or f"account:{record.account}")
        course = _course_of(record, courses)
        if learner is None or course is None:
            waiting.append((row, NO_LEARNER if learner is None else NO_ITEM))
            continue
        by_pair[(learner, course)].append(record)
    created, updated = _attempts_write(by_pair)
    held = {row.pk for row, _ in waiting}
    applied = [row for row in batch if row.pk in records and row.pk not in held]
    _mark(applied, State.APPLIED, "")
    for state, pairs in ((State.WAITING, waiting), (State.REJECTED, rejected)):
        for reason in {r for _, r in pairs}:
            _mark([row for row, r in pairs if r == reason], state, reason)
    return ApplyCounts(len(applied), len(waiting), len(rejected), created, updated)


def _mark(rows: list[Row], state: str, reason: str) -> None:
    if not rows:
        return
    ids, now = [r.pk for r in rows], timezone.now()
    db = connections[router.db_for_write(XapiStatement)]
    if db.vendor != "postgresql":
        XapiStatement.objects.filter(pk__in=ids).update(
            state=state, reason=reason[:300], applied_at=now
        )
        return
    table = db.ops.quote_name(XapiStatement._meta.db_table)
    sql = f"UPDATE {table} SET state = %s, reason = %s, applied_at = %s WHERE id = ANY(%s)"  # noqa: S608 # nosec B608
    execute_write(db, sql, [state, reason[:300], now, ids])


def _learners(integration: Integration, records) -> dict[str, int]:
    """{e-mail or "account:<name>": learner id} of the learners of the integration's audience
    the batch names."""
    emails = {r.email for r in records if r.email}
    accounts = {r.account for r in records if r.account}
    found: dict[str, int] = {}
    if emails:
        rows = Learner.objects.annotate(key=Lower("email")).filter(key__in=emails)
        found.update(dict(rows.values_list("key", "pk")))
    if accounts:
        by_remote: dict[str, list[int]] = defaultdict(list)
        for remote_id, pk in Learner.objects.filter(remote_id__in=accounts).values_list(
            "remote_id", "pk"
        ):
            by_remote[remote_id].append(pk)
        # Two platforms may give the same id to two people: ambiguous, matched to no one.
        found.update({f"account:{k}": v[0] for k, v in by_remote.items() if len(v) == 1})
    audience = audience_of(integration)
    if audience is None:
        return found
    inside = members_of(audience, set(found.values()))
    return {key: pk for key, pk in found.items() if pk in inside}


def _courses(integration: Integration, records) -> dict[tuple[str, str], int]:
    """{(key kind, key): course id} of this integration's items the batch's object ids name."""
    keys = {key for r in records for key in object_keys(r.object_id)}
    ids = {kind: {v for k, v in keys if k == kind} for kind in ("course", "learning_path")}
    urls = {v for k, v in keys if k == "url"}
    items = Course.objects.filter(integration=integration).exclude(status=Course.Status.DISCARDED)
    found: dict[tuple[str, str], int] = {}
    for kind, values in ids.items():
        if values:
            rows = items.filter(kind=kind, external_id__in=values).values_list("external_id", "pk")
            found.update({(kind, external_id): pk for external_id, pk in rows})
    if urls:
        variants = {f"{scheme}://{u}{end}" for u in urls for scheme in ("https", "http")
                    for end in ("", "/")}  # fmt: skip
        for launch_url, pk in items.filter(launch_url__in=variants).values_list("launch_url", "pk"):
            found[("url", url_key(launch_url))] = pk
    return found


def _course_of(record: XapiRecord, courses: dict[tuple[str, str], int]) -> int | None:
    for key in object_keys(record.object_id):
        if key in courses:
            return courses[key]
    return None


def _attempts_write(by_pair: dict[tuple[int, int], list[XapiRecord]]) -> tuple[int, int]:
    """Create or update the latest attempt of each pair (a constant number of statements)."""
    latest = attempts_latest(by_pair)
    to_create, to_update = [], []
    for pair, records in by_pair.items():
        records = sorted(records, key=lambda r: r.timestamp)
        attempt = latest.get(pair)
        if attempt is None:
            attempt = _new_attempt(pair, records[0])
            for record in records[1:]:
                attempt_apply_statement(attempt, record)
            to_create.append(attempt)
            continue
        changed = [attempt_apply_statement(attempt, record) for record in records]
        if any(changed):
            to_update.append(attempt)
    insert_rows(Attempt, [_values(a) for a in to_create], returning=False)
    bulk_update(to_update, ATTEMPT_FIELDS)
    return len(to_create), len(to_update)


def attempts_latest(pairs: Collection[tuple[int, int]]) -> dict[tuple[int, int], Attempt]:
    """{(learner, course): its latest attempt} of these pairs that have one, reading these
    pairs' attempts only: `(learner_id, course_id) IN (VALUES ...)`, `LOOKUP_PAIRS` pairs per
    query (row values: PostgreSQL, SQLite 3.15+; a raw query, as an OR of that many pairs costs
    the ORM more to build than the database to run). The statistics sync's `attempts_lookup` reads
    every attempt of the page's learners on the page's courses, a superset that suits a report
    page sorted by learner; a batch of statements names learners and courses at random, so
    that superset grows with every attempt stored."""
    ordered = sorted(pairs)
    latest: dict[tuple[int, int], Attempt] = {}
    for start in range(0, len(ordered), LOOKUP_PAIRS):
        chunk = ordered[start : start + LOOKUP_PAIRS]
        rows = ", ".join(["(%s, %s)"] * len(chunk))
        found = Attempt.objects.raw(
            f"SELECT * FROM {Attempt._meta.db_table}"  # noqa: S608 - placeholders only
            f" WHERE (learner_id, course_id) IN (VALUES {rows}) ORDER BY number",
            [value for pair in chunk for value in pair],
        )
        for attempt in found:
            latest[(attempt.learner_id, attempt.course_id)] = attempt  # the last is the latest
    return latest


def _new_attempt(pair: tuple[int, int], record: XapiRecord) -> Attempt:
    return Attempt(
        learner_id=pair[0],
        course_id=pair[1],
        number=1,
        source=Attempt.Source.PROVIDER,
        first_activity=record.timestamp,
        last_activity=record.timestamp,
        completed_at=record.timestamp if record.completed else None,
        progress=record.progress or 0.0,
        is_open=not record.completed,
        fingerprint="",
    )


def _values(attempt: Attempt) -> dict:
    names = ["learner_id", "course_id", "number", "source", *ATTEMPT_FIELDS]
    return {name: getattr(attempt, name) for name in names}


def attempt_apply_statement(attempt: Attempt, record: XapiRecord) -> bool:
    """Apply one statement to an attempt (in memory); whether anything changed.

    A newer statement sets the progress; an older one only raises it (never backwards). A
    completed attempt stays completed at 100 %; a launch's attempt stays closed and takes a
    completion dated after the launch (the statistics sync's rule, `attempts._apply_to_launch`).
    """
    before = (attempt.progress, attempt.completed_at, attempt.is_open,
              attempt.first_activity, attempt.last_activity)  # fmt: skip
    moment = record.timestamp
    newer = attempt.last_activity is None or moment >= attempt.last_activity
    finished = _finished_on_udemy(attempt)
    if record.progress is not None:
        if newer and not finished:
            attempt.progress = record.progress
        else:
            attempt.progress = max(attempt.progress, record.progress)
    if record.completed and not finished:
        launched = attempt.launched_at if attempt.source == Attempt.Source.LAUNCH else None
        if launched is None or moment >= launched:
            attempt.completed_at = moment
            attempt.progress = 100.0
    if attempt.completed_at is not None:
        attempt.is_open = False
    attempt.first_activity = min(d for d in (attempt.first_activity, moment) if d)
    attempt.last_activity = max(d for d in (attempt.last_activity, moment) if d)
    after = (attempt.progress, attempt.completed_at, attempt.is_open,
             attempt.first_activity, attempt.last_activity)  # fmt: skip
    if after == before:
        return False
    attempt.fingerprint = ""  # the next daily report reconciles it
    return True


def _finished_on_udemy(attempt: Attempt) -> bool:
    """Completed per Udemy (not a launch's bookkeeping completion at 0 %)."""
    return attempt.completion_source == "udemy"
