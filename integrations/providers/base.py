"""What the sync services need from a provider: streams of pages, mapped item by item.

A provider module exposes `content_streams(integration, client)`, `stats_stream(client)`,
`make_client(integration)` and `check_credentials(integration, **overrides)`; see
`integrations/providers/udemy/provider.py` and the README's "Adding a provider".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from integrations.core.records import MappingError, StatRecord


class PageLike(Protocol):
    number: int
    count: int | None
    results: list[dict]


@dataclass(frozen=True)
class Stream:
    """One paged upstream list and how to map its items.

    `name` keys the checkpoint (`SyncRun.checkpoint[name]` = last committed page), `kind` is the
    `Course.Kind` the records become (content streams only), `map_item` turns a raw item into a
    record or raises `integrations.core.records.MappingError`.
    """

    name: str
    kind: str
    pages: Callable[[int], Iterator[PageLike]]
    map_item: Callable[[Mapping[str, Any]], Any]
    # Statistics streams: how the report's ratios become progress, decided once per report.
    report: ReportScale | None = None
    # Content streams, optional: the item's external id read from the raw item without mapping
    # it (None when it cannot tell), and `revision`, everything else its record depends on (the
    # mapping's options and code). An item received again with the same raw content and
    # revision is left as it is, unmapped.
    item_id: Callable[[Mapping[str, Any]], str | None] | None = None
    revision: str = ""
    # The scan's share of the account's shared request budget (`core.budget.BudgetShare`),
    # started before its first request and told of each page (None: not shared).
    budget: Callable[[], Any] | None = None
    # Pages `first` to `last` (None: to the end) when the list can be read by range: a report
    # that can be split across workers (`services.stats_split`).
    page_range: Callable[[int, int | None], Iterator[PageLike]] | None = None

    @property
    def label(self) -> str:
        """The stream as an admin reads it in an error: "Courses", "Learning paths"."""
        return self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class StatRow:
    """A statistics row as the provider maps it, before the decisions that take the whole report.

    `record.progress` reads `ratio` on a 0-100 scale; the report's `ReportScale` rewrites it once
    the scale is decided. `started` is false for a learner only enrolled in (or assigned) the
    course: such a row updates an attempt that exists but never creates one.
    """

    record: StatRecord
    ratio: float = 0.0
    started: bool = True


class ReportScale(Protocol):
    """The scale of a report's ratios (0-1 or 0-100), decided from all its rows, never per row.

    The evidence is a small dict of counts (JSON, kept with the run's checkpoint) that `observe`
    extends page by page; a scale is a short string, "" while no row decides it.
    """

    def observe(self, evidence: Mapping[str, int], rows: Sequence[StatRow]) -> dict[str, int]: ...

    def decide(self, evidence: Mapping[str, int]) -> str: ...

    def settled(self, evidence: Mapping[str, int]) -> str: ...

    def apply(self, row: StatRow, scale: str) -> tuple[StatRecord, MappingError | None]: ...
