"""What the directory import's steps share: per-stream tallies and item mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from integrations.core.records import MappingError
from integrations.core.runs import EXCERPT_LIMIT, run_add_counts
from integrations.models import PlatformDirectoryLink, PlatformError, PlatformRun

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
    records, errors = [], []
    for raw in items:
        try:
            records.append(mapper(raw))
        except MappingError as exc:
            errors.append(
                PlatformError(
                    run=run,
                    external_id=str(exc.external_id)[:100],
                    category=exc.category[:50],
                    message=exc.message[:1000],
                    excerpt=(exc.excerpt or repr(raw))[:EXCERPT_LIMIT],
                )
            )
    if errors:
        PlatformError.objects.bulk_create(errors)
        run_add_counts(run=run, failed=len(errors))
    return records
