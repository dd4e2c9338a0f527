"""What the directory import's steps share: per-stream tallies, item mapping, the links already
made and the territory a connection may touch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from catalog.models import Membership
from catalog.selectors import group_subtree_ids
from integrations.core.records import MappingError
from integrations.core.runs import run_record_bad_items
from integrations.models import PlatformConnection, PlatformDirectoryLink, PlatformRun

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


def links_by_remote_id(
    connection: PlatformConnection, item_type: str, target: str
) -> dict[str, PlatformDirectoryLink]:
    """The connection's links of `item_type` whose local `target` ("group" or "learner") still
    exists, by remote id, each with its target read in the same query."""
    return {
        link.remote_id: link
        for link in Link.objects.filter(connection=connection, item_type=item_type)
        .select_related(target)
        .exclude(**{target: None})
    }


@dataclass(frozen=True)
class Territory:
    """What one connection may touch: the learners its group's admins can list and who are
    linked to no other connection. Those learners have every membership in the connected
    group, in a group this connection imported, or in a subgroup of the connected group one
    of its admins administers. Anyone else is out of its scope: another tenant's, or of a
    subgroup its admins do not administer."""

    connection: PlatformConnection
    group_ids: frozenset[int]

    @classmethod
    def of(cls, connection: PlatformConnection) -> Territory:
        """Read the territory (three queries and one per level of the subtree)."""
        subtree = group_subtree_ids(group=connection.group)
        admins = Membership.objects.filter(
            group_id=connection.group_id, role=Membership.Role.ADMIN
        ).values("learner_id")
        administered = Membership.objects.filter(
            group_id__in=subtree, role=Membership.Role.ADMIN, learner_id__in=admins
        ).values_list("group_id", flat=True)
        imported = Link.objects.filter(
            connection=connection, item_type=Link.ItemType.GROUP, group_id__in=subtree
        ).values_list("group_id", flat=True)
        return cls(connection, frozenset({connection.group_id, *administered, *imported}))

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
