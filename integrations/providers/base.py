"""What the sync services need from a provider: streams of pages, mapped item by item.

A provider module exposes `content_streams(integration, client)`, `stats_stream(client)`,
`make_client(integration)` and `check_credentials(integration, **overrides)`; see
`integrations/providers/udemy/provider.py` and the README's "Adding a provider".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


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

    @property
    def label(self) -> str:
        """The stream as an admin reads it in an error: "Courses", "Learning paths"."""
        return self.name.replace("_", " ").capitalize()
