"""Directory import, step 1: the platform's groups → public subgroups of the connected group."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from catalog.models import Group
from integrations.core.runs import run_add_counts
from integrations.models import PlatformConnection, PlatformDirectoryLink, PlatformRun

from ..base import DirectorySource, RemoteGroup
from ..runs import run_set_details
from .common import Link, Tally, links_by_remote_id, mapped


def _parents_first(records: list[RemoteGroup]) -> list[RemoteGroup]:
    """Order the tree so parents come before children; a cycle or an unknown parent makes a
    group top-level (it can't be placed anywhere else)."""
    by_id = {r.remote_id: r for r in records}
    depth: dict[str, int] = {}
    for record in records:
        chain, current = [], record
        while current is not None and current.remote_id not in depth and current not in chain:
            chain.append(current)
            current = by_id.get(current.parent_id) if current.parent_id else None
        base = depth.get(current.remote_id, -1) if current is not None else -1
        for offset, item in enumerate(reversed(chain), start=1):
            depth[item.remote_id] = base + offset
    return sorted(records, key=lambda r: (depth[r.remote_id], r.remote_id))


def _unique_slug(connection: PlatformConnection, record: RemoteGroup) -> str:
    base = slugify(f"{connection.group.slug}-{record.name}")[:80].strip("-") or "group"
    candidates = [base, slugify(f"{base}-{record.remote_id}")[:100]]
    candidates += [f"{base}-{n}" for n in range(2, 100)]
    taken = set(Group.objects.filter(slug__in=candidates).values_list("slug", flat=True))
    return next(slug for slug in candidates if slug not in taken)


def import_groups(
    *, run: PlatformRun, connection: PlatformConnection, source: DirectorySource
) -> dict[str, int]:
    """Create/update the local subgroups; returns remote group id → local group id."""
    records: list[RemoteGroup] = []
    for items in source.groups():
        records.extend(mapped(run, items, source.map_group))
    known = {r.remote_id for r in records}
    links = links_by_remote_id(connection, Link.ItemType.GROUP, "group")
    local: dict[str, int] = {}
    tally = Tally()
    tally.add("fetched", len(records))
    with transaction.atomic():
        for record in _parents_first(records):
            parent_id = local.get(record.parent_id) if record.parent_id in known else None
            parent_id = parent_id or connection.group_id
            local[record.remote_id] = _upsert_group(connection, record, parent_id, links, tally)
        for remote_id, link in links.items():
            if remote_id not in known and link.present:
                link.present = False  # kept (never deleted): its members may have history
                link.save(update_fields=["present"])
                tally.add("missing")
    run_set_details(run=run, stream="groups", **tally.counts)
    run_add_counts(
        run=run,
        fetched=len(records),  # groups read count as fetched, as users do
        created=tally.counts.get("created", 0),
        updated=tally.counts.get("updated", 0),
    )
    return local


def _upsert_group(
    connection: PlatformConnection,
    record: RemoteGroup,
    parent_id: int,
    links: dict[str, PlatformDirectoryLink],
    tally: Tally,
) -> int:
    link = links.get(record.remote_id)
    if link is None:
        group = Group.objects.create(
            name=record.name,
            slug=_unique_slug(connection, record),
            parent_id=parent_id,
            is_public=True,  # learners of the subgroups see the connected group's catalog
            remote_kind=connection.kind,
            remote_id=record.remote_id,
        )
        Link.objects.create(
            connection=connection,
            item_type=Link.ItemType.GROUP,
            remote_id=record.remote_id,
            group=group,
        )
        tally.add("created")
        return group.pk
    group, changed = link.group, []
    if group.name != record.name:
        group.name = record.name
        changed.append("name")
    if group.parent_id != parent_id and group.pk != parent_id:
        group.parent_id = parent_id
        changed.append("parent")
    if changed:
        group.save(update_fields=changed)
    if not link.present:
        link.present = True
        link.save(update_fields=["present"])
    tally.add("updated" if changed else "unchanged")
    return group.pk
