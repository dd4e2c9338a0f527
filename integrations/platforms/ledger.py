"""The push ledger: what was sent for each local item and what the platform answered.

Every successful step is saved at once (its own short transaction), so a push that dies half-way
keeps what it did and the next push resumes from there; a refused item is marked errored and
retried by the next push.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from integrations.models import PlatformConnection, PlatformLedgerItem

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


def ledger_errored(item: PlatformLedgerItem, exc: PlatformApiError) -> None:
    """Record a refusal: the next push retries the item."""
    item.last_status_code = exc.status
    item.last_response_excerpt = (exc.excerpt or exc.message)[:300]
    item.errored_at = timezone.now()
    item.save()


def push_plan(
    steps: Iterable[Any],
    pusher: Any,
    *,
    counts: dict[str, int],
    dry_run: bool,
    plan: list[dict],
    on_item: Callable[[], None] | None,
) -> dict[str, int]:
    """Drive a pusher over planned steps: a step that is a string only counts under that name;
    the others are pushed or, in a dry run (or without a client), described in `plan`."""
    for step in steps:
        if isinstance(step, str):
            counts[step] += 1
            continue
        counts["planned"] += 1
        if dry_run or pusher is None:
            plan.append(step.describe())
            continue
        pusher.push(step)
        if on_item:
            on_item()
    if pusher is not None:
        counts.update(pusher.counts)
    return counts
