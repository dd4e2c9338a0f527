"""Bulk upsert of one page of course records: a constant number of statements per page.

Per page: one SELECT of the existing rows, one INSERT of the new ones, one UPDATE of the changed
ones, and for tags one INSERT of new tag names and one INSERT of the links (on PostgreSQL; a
SELECT of the tags before it elsewhere). Unchanged items (same fingerprint) are not written at
all; an item whose raw content is unchanged is not even mapped (`content_sync`), and the SELECT
is the one that found that out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection, connections
from django.utils import timezone

from catalog.models import Course, Tag
from integrations.core.bulk_reads import select_by
from integrations.core.bulk_writes import bulk_insert, bulk_update, insert_rows, json_rows
from integrations.core.records import CourseRecord
from integrations.core.transactions import execute_write

MODEL_FIELDS = {
    "title": "title",
    "name": "name",
    "description": "description",
    "image": "image",
    "duration_minutes": "duration_minutes",
    "authors": "authors",
    "lang": "lang",
    "video_url": "video_url",
    "launch_url": "launch_url",
    "modified_at": "modified_at",
}


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0


class StoredCourse(NamedTuple):
    """What the upsert compares of a stored row (a tuple: a page's lookup builds no model
    instance; one is made only for a row to write)."""

    id: int
    external_id: str
    fingerprint: str
    raw_fingerprint: str
    status: str


LOOKUP_FIELDS = StoredCourse._fields


def _values(record: CourseRecord, raw_fingerprint: str) -> dict:
    """The columns a record sets, by attname."""
    values = {}
    for record_field, model_field in MODEL_FIELDS.items():
        value = getattr(record, record_field)
        values[model_field] = list(value) if isinstance(value, tuple) else value
    values["fingerprint"] = record.fingerprint
    values["raw_fingerprint"] = raw_fingerprint
    return values


def courses_lookup(
    *, integration_id: int, kind: str, external_ids: Iterable[str]
) -> dict[str, StoredCourse]:
    """The stored rows of these ids (only what the upsert compares), by external id."""
    rows = select_by(
        Course, LOOKUP_FIELDS, "external_id", list(external_ids),
        integration_id=integration_id, kind=kind,
    )  # fmt: skip
    return {row[1]: StoredCourse(*row) for row in rows}


def courses_upsert_page(
    *,
    integration_id: int,
    group_id: int,
    kind: str,
    records: list[CourseRecord],
    known: Mapping[str, StoredCourse] | None = None,
    looked_up: Collection[str] = (),
    raw_fingerprints: Mapping[str, str] | None = None,
) -> UpsertCounts:
    """Insert new, update changed, restore archived; duplicates in the page keep the last.
    New and restored items are held (`Course.Status.HELD`): the scan publishes them when it
    ends (`content_review.held_publish_or_keep`).

    `known`: the rows `courses_lookup` already found for the ids `looked_up` (the others are
    read here). `raw_fingerprints`: by external id, stored with the records."""
    by_id = {r.external_id: r for r in records}
    known, raw_fingerprints = known or {}, raw_fingerprints or {}
    existing = dict(known)
    unread = [external_id for external_id in by_id if external_id not in looked_up]
    if unread:
        existing.update(
            courses_lookup(integration_id=integration_id, kind=kind, external_ids=unread)
        )
    counts = UpsertCounts()
    now = timezone.now()
    to_create: list[dict] = []
    created_tags: list[tuple[str, ...]] = []
    to_update: list[Course] = []
    to_mark: list[Course] = []
    tagged: list[tuple[int, tuple[str, ...]]] = []  # (course pk, tag names)
    for external_id, record in by_id.items():
        stored = existing.get(external_id)
        raw_fingerprint = raw_fingerprints.get(external_id, "")
        if stored is None:
            to_create.append({
                "integration_id": integration_id, "group_id": group_id, "kind": kind,
                "external_id": external_id, "status": Course.Status.HELD,
                **_values(record, raw_fingerprint),
            })  # fmt: skip
            created_tags.append(record.tag_names)
            counts.created += 1
        elif stored.fingerprint != record.fingerprint or stored.status == Course.Status.ARCHIVED:
            status = stored.status  # held or discarded stays so: only a decision shows it
            if stored.status == Course.Status.ARCHIVED:
                counts.restored += 1
                status = Course.Status.HELD  # shown again when the scan ends (`content_review`)
            else:
                counts.updated += 1
            to_update.append(
                Course(
                    id=stored.id, external_id=external_id, status=status,
                    archived_at=None, updated_at=now, **_values(record, raw_fingerprint),
                )
            )  # fmt: skip
            if record.tag_names:
                tagged.append((stored.id, record.tag_names))
        else:
            counts.unchanged += 1
            if stored.raw_fingerprint != raw_fingerprint:
                # Same record from a different raw item (a field the mapping ignores changed):
                # only the raw fingerprint is written, so the next sync skips the item.
                to_mark.append(Course(id=stored.id, raw_fingerprint=raw_fingerprint))
    created = insert_rows(Course, to_create)
    tagged += [(pk, names) for pk, names in zip(created, created_tags, strict=True) if names]
    bulk_update(
        to_update, [*MODEL_FIELDS.values(), "fingerprint", "status", "archived_at", "updated_at"]
    )
    bulk_update(to_mark, ["raw_fingerprint"])
    if tagged:
        _add_tags(tagged)
    return counts


def _add_tags(tagged: list[tuple[int, tuple[str, ...]]]) -> None:
    """Add tags to courses (360Learning rule: tags are only ever added, never removed)."""
    names = {name for _, tag_names in tagged for name in tag_names}
    insert_rows(Tag, [{"name": n} for n in names], ignore_conflicts=True, returning=False)
    links = [(course_id, name) for course_id, tag_names in tagged for name in tag_names]
    if connection.vendor == "postgresql":
        return _link_by_name(links)
    tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    through = Course.tags.through
    bulk_insert(
        [through(course_id=course_id, tag_id=tag_ids[name]) for course_id, name in links],
        ignore_conflicts=True,
    )


def _link_by_name(links: list[tuple[int, str]]) -> None:
    """PostgreSQL: the links in one statement that finds the tags by name itself (instead of a
    SELECT of the tags and an INSERT of a model instance per link, a few per course)."""
    through, quote = Course.tags.through, connection.ops.quote_name
    table, tags = quote(through._meta.db_table), quote(Tag._meta.db_table)
    course_id = quote(through._meta.get_field("course").column)
    tag_id = quote(through._meta.get_field("tag").column)
    # Only identifiers from the models' metadata are interpolated; the links are a parameter.
    sql = (
        f"INSERT INTO {table} ({course_id}, {tag_id}) "  # noqa: S608 # nosec B608
        f"SELECT l.course, t.id FROM jsonb_to_recordset(%s::jsonb) AS l(course bigint, name text) "
        f"JOIN {tags} t ON t.name = l.name ON CONFLICT DO NOTHING"
    )
    rows = [{"course": course, "name": name} for course, name in links]
    execute_write(connections[Course.objects.db], sql, [json_rows(rows)])
