"""What the directory import's steps share: per-stream tallies and item mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from integrations.core.records import MappingError
from integrations.core.runs import run_record_bad_items
from integrations.models import PlatformDirectoryLink, PlatformRun

Link = PlatformDirectoryLink
OnPage = Callable[[], None] | None


@dataclass
class Tally:
    """Counts of one stream, copied into `run.details[stream]`."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        if n:
            self.counts[name] = self.counts.get(name, 0) + n


def mapped(run: PlatformRun, items: list[dict], mapper) -> list:
    """Map every item; a bad one becomes a PlatformError (bulk-written) and is skipped."""
    records, bad = [], []
    for raw in items:
        try:
            records.append(mapper(raw))
        except MappingError as exc:
            bad.append((exc, raw))
    run_record_bad_items(run=run, bad=bad)
    return records
