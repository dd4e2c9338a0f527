"""What the directory import's steps share: per-stream tallies and item mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from integrations.core.records import MappingError
from integrations.core.runs import run_record_bad_items
from integrations.models import PlatformConnection, PlatformDirectoryLink, PlatformRun
from lmsbridge.catalog.models import Membership
from lmsbridge.catalog.selectors import group_subtree_ids

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


@dataclass(frozen=True)
class Territory:
    """What one connection may touch: learners whose memberships all lie in its group's subtree
    and who are linked to no other connection. Anyone else is another tenant's."""

    connection: PlatformConnection
    group_ids: frozenset[int]

    @classmethod
    def of(cls, connection: PlatformConnection) -> Territory:
        return cls(connection, frozenset(group_subtree_ids(group=connection.group)))

    def foreign(self, learner_ids: Iterable[int]) -> set[int]:
        """The learners among `learner_ids` that belong to someone else (two queries)."""
        ids = set(learner_ids)
        if not ids:
            return set()
        elsewhere = Membership.objects.filter(learner_id__in=ids).exclude(
            group_id__in=self.group_ids
        )
        other_links = Link.objects.filter(item_type=Link.ItemType.USER, learner_id__in=ids).exclude(
            connection=self.connection
        )
        return set(elsewhere.values_list("learner_id", flat=True)) | set(
            other_links.values_list("learner_id", flat=True)
        )
