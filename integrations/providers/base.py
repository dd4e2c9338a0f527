"""What the sync services need from a provider: the `Provider` contract (its capabilities and
the methods each one needs) and streams of pages, mapped item by item.

A provider is a subclass of `Provider` (see `integrations/providers/udemy/provider.py` and the
docs/architecture.md, "Adding a provider") listed in `integrations.connectors.providers`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from integrations.core.errors import CredentialCheck
from integrations.core.kinds import Capability, missing_methods
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


# --------------------------------------------------------------------------- the contract

StatsPages = Callable[[int], Iterator[PageLike]]


class StatisticsSource(Protocol):
    """Where a provider's statistics may be read instead of its own API (a learning platform
    that exports the same report): registered with `integrations.connectors.providers`, so the
    provider side never imports the platform that offers it."""

    def stats_pages(
        self, integration: Any, on_wait: Callable[[], None]
    ) -> AbstractContextManager[StatsPages | None]:
        """The report's pages (`pages(start)`) for this integration's run, or None when this
        source is not the integration's (the sync then reads the provider's API)."""
        ...


class Provider(ABC):
    """A content provider (Udemy Business): what an `Integration` connects.

    Every provider makes a client and checks credentials; `capabilities` says what else it
    does, and a subclass declaring a capability must implement that capability's methods
    (`REQUIRES`, checked when the class is defined)."""

    REQUIRES: ClassVar[dict[Capability, tuple[str, ...]]] = {
        Capability.CONTENT: ("content_streams", "launch_url_allowed"),
        Capability.STATISTICS: ("stats_stream",),
    }
    key: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # The settings page's form: a class with `for_integration(integration, ...)`.
    settings_form: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if missing := missing_methods(cls, cls.capabilities, cls.REQUIRES, Provider):
            raise TypeError(f"{cls.__name__} declares capabilities without {missing}")

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @abstractmethod
    def make_client(self, integration: Any) -> Any:
        """A client of the integration's account, usable as a context manager."""

    @abstractmethod
    def check_credentials(self, integration: Any) -> CredentialCheck:
        """One cheap authenticated call; a verdict with an admin-readable message, never a
        raise."""

    def content_streams(self, integration: Any, client: Any) -> list[Stream]:
        """CONTENT: the catalog's streams (courses first)."""
        raise NotImplementedError

    def launch_url_allowed(self, integration: Any, url: str) -> bool:
        """CONTENT: whether START may send a learner to `url`, a stored launch URL."""
        raise NotImplementedError

    def stats_stream(self, client: Any, pages: StatsPages | None = None) -> Stream:
        """STATISTICS: the progress report, from the API or from `pages` (a
        `StatisticsSource`'s)."""
        raise NotImplementedError
