"""The push ledger: what was sent for each local item and what the platform answered.

Every successful step is saved at once (its own short transaction), so a push that dies half-way
keeps what it did and the next push resumes from there; a refused item is marked errored and
retried by the next push.

A push is a `PushJob` (where it goes, how it reports); each kind's stream plans steps and has a
pusher (a `LedgerPusher`) that executes them, and `push_plan` drives one over the other.

A push may stop between two items (its time slice is used, a long rate limit) and go on later
from the ledger: what it counted so far is kept in `PushJob.counts`, and the resumed push leaves
the items this run already sent or saw refused (`done_in_this_run`: neither sent again, nor
counted twice, nor retried before the next run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from integrations.core.runs import run_record_error
from integrations.models import PlatformConnection, PlatformLedgerItem, PlatformRun

from .base import PlatformApiError


def ledger_items(
    *, connection: PlatformConnection, item_type: str
) -> dict[str, PlatformLedgerItem]:
    """local_id → ledger item, for one item type of a connection (one query)."""
    return {
        item.local_id: item
        for item in PlatformLedgerItem.objects.filter(connection=connection, item_type=item_type)
    }


def ledger_item(
    *, connection: PlatformConnection, item_type: str, local_id: str
) -> PlatformLedgerItem:
    """An unsaved item for a first send (saved by the first successful step)."""
    return PlatformLedgerItem(connection=connection, item_type=item_type, local_id=local_id)


def ledger_sent(
    item: PlatformLedgerItem,
    *,
    status_code: int = 200,
    remote_id: str | None = None,
    fingerprint: str | None = None,
    state: dict[str, Any] | None = None,
) -> None:
    """Record one successful step (create, publish, attach, update...)."""
    if remote_id is not None:
        item.remote_id = remote_id
    if fingerprint is not None:
        item.fingerprint = fingerprint
    if state:
        item.state = {**item.state, **state}
    item.last_status_code = status_code
    item.last_response_excerpt = ""
    item.sent_at = timezone.now()
    item.errored_at = None
    item.save()


DONE_EARLIER = "done_in_this_run"  # a planned "step" that a resumed push skips, uncounted


def done_in_this_run(item: PlatformLedgerItem | None, since: datetime | None) -> bool:
    """Sent or refused by an earlier part of this very run (`since`: when the run started, for
    a resumed push; None otherwise)."""
    if since is None or item is None:
        return False
    return any(moment is not None and moment >= since for moment in (item.sent_at, item.errored_at))


def ledger_errored(item: PlatformLedgerItem, exc: PlatformApiError) -> None:
    """Record a refusal: the next push retries the item."""
    item.last_status_code = exc.status
    item.last_response_excerpt = (exc.excerpt or exc.message)[:300]
    item.errored_at = timezone.now()
    item.save()


@dataclass
class PushJob:
    """One push of a connection: its run, its client (None: a dry run, nothing is sent) and
    where it reports (`plan`: the steps a dry run describes; `on_item` after each pushed step,
    which may stop the push; `counts`: each stream's counts so far, kept when it stops).
    `resumed_since`: when the run started, if this execution goes on from an earlier one."""

    run: PlatformRun
    connection: PlatformConnection
    client: Any | None
    dry_run: bool
    on_item: Callable[[], None] | None = None
    plan: list[dict] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    resumed_since: datetime | None = None


@dataclass
class LedgerPusher:
    """What every pusher shares: counts by outcome and the recording of a refused item."""

    run: PlatformRun
    counts: dict[str, int] = field(default_factory=dict, kw_only=True)

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def refused(
        self,
        item: PlatformLedgerItem,
        exc: PlatformApiError,
        *,
        category: str,
        message: str,
    ) -> None:
        """The platform refused the item: errored in the ledger (the next push retries it),
        a run error, one more `failed`."""
        ledger_errored(item, exc)
        run_record_error(
            run=self.run,
            category=category,
            message=message,
            external_id=item.local_id,
            excerpt=exc.excerpt,
        )
        self.count("failed")


def push_plan(
    job: PushJob,
    steps: Iterable[Any],
    make_pusher: Callable[[Any], LedgerPusher],
    *,
    counts: dict[str, int],
) -> dict[str, int]:
    """Drive a pusher (`make_pusher(client)`) over planned steps: a step that is a string only
    counts under that name; the others are pushed or, in a dry run (or without a client),
    described in `job.plan`."""
    pusher = make_pusher(job.client) if job.client is not None else None
    try:
        for step in steps:
            if step == DONE_EARLIER:
                continue
            if isinstance(step, str):
                counts[step] += 1
                continue
            counts["planned"] += 1
            if job.dry_run or pusher is None:
                job.plan.append(step.describe())
                continue
            pusher.push(step)
            if job.on_item:
                job.on_item()  # each step is in the ledger already: the push may stop here
    finally:  # stopped or done: what was counted so far stays with the job
        if pusher is not None:
            counts.update(pusher.counts)
    return counts
