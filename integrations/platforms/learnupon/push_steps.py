"""What the LearnUpon catalog and completion pushes share: the refusals a push records and goes
on after, the ledger's verdict on each planned item, and how a stream is pushed and counted.

A stream plans one verdict per local item (`StepPlanner.verdict`): `DONE_EARLIER` when an
earlier part of this very run already dealt with it, None when nothing is to be sent, or the
ledger item a step sends it with (an unsaved one for a first send).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.models import PlatformConnection, PlatformLedgerItem

from ..base import PlatformNotFound, PlatformRejected
from ..ledger import (
    DONE_EARLIER,
    LedgerPusher,
    PushJob,
    done_in_this_run,
    ledger_item,
    ledger_items,
    push_plan,
)

COURSE = PlatformLedgerItem.ItemType.COURSE
COMPLETION = PlatformLedgerItem.ItemType.COMPLETION
# Refusals of one item: recorded in the ledger and the run's errors, the push goes on.
ITEM_ERRORS = (PlatformRejected, PlatformNotFound)


@dataclass
class StepPlanner:
    """The ledger of one item type of a connection (read once), and the verdict on each item.
    `since`: when the run started, for a resumed push (None otherwise)."""

    connection: PlatformConnection
    item_type: str
    since: datetime | None = None
    items: dict[str, PlatformLedgerItem] = field(init=False)

    def __post_init__(self) -> None:
        self.items = ledger_items(connection=self.connection, item_type=self.item_type)

    def verdict(
        self, local_id: str, *, needed: bool, settled: bool
    ) -> PlatformLedgerItem | str | None:
        """`DONE_EARLIER` when this run already sent the item and nothing is left (`settled`),
        or saw it refused; None when nothing is `needed`; else the item to send it with."""
        item = self.items.get(local_id)
        if done_in_this_run(item, self.since) and (settled or item.is_errored):
            return DONE_EARLIER  # counted by the part of the run that did it
        if not needed:
            return None
        return item or ledger_item(
            connection=self.connection, item_type=self.item_type, local_id=local_id
        )


def push_stream(
    job: PushJob,
    stream: str,
    steps: Iterable[Any],
    make_pusher: Callable[[Any], LedgerPusher],
    *outcomes: str,
) -> dict[str, int]:
    """Push (or, dry, describe) one stream's planned steps; its counts by outcome start from
    what an earlier part of the run counted (`job.counts[stream]`), `outcomes` and "planned"
    at zero."""
    counts = job.counts.setdefault(stream, dict.fromkeys((*outcomes, "planned"), 0))
    return push_plan(job, steps, make_pusher, counts=counts)
