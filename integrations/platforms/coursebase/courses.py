"""Course list import: Coursebase's courses (Coursebase API, org.courses.list) → `PlatformCourse`
rows, each matched by title to the group's synced Udemy course where that is unambiguous.

Pages are committed one by one with a constant number of statements each; a course gone from a
complete list is marked absent (never deleted: its report figures stay readable). Matching is
by title, case and spacing aside: a title held by exactly one synced course of the group and
one Coursebase course is `matched`; a title held twice on either side is `ambiguous` (an admin
sees which Udemy courses already exist in Coursebase, never a wrong pair).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.db import transaction

from catalog.models import Course
from integrations.core.runs import run_add_counts
from integrations.models import PlatformConnection, PlatformCourse, PlatformRun

from ..directory.common import mapped
from ..runs import run_set_details
from .client import CoursebaseClient
from .mapping import RemoteCourse, map_course, title_key


def import_courses(
    *,
    run: PlatformRun,
    connection: PlatformConnection,
    client: CoursebaseClient,
    on_page: Callable[[], None],
) -> None:
    """Read every page of the course list, then mark the absent ones and match titles."""
    seen: set[str] = set()
    for items in client.iter_course_pages():
        records = _dedupe(mapped(run, items, map_course))
        with transaction.atomic():
            created, updated, unchanged = _write_page(connection, records)
            run_add_counts(
                run=run, fetched=len(items), created=created, updated=updated, unchanged=unchanged
            )
        seen.update(r.remote_id for r in records)
        on_page()
    gone = 0
    if seen:  # an empty list marks nothing absent (a broken org answers an empty list too)
        gone = (
            PlatformCourse.objects.filter(connection=connection, present=True)
            .exclude(remote_id__in=seen)
            .update(present=False)
        )
    run_add_counts(run=run, removed=gone)
    run_set_details(run=run, stream="courses", absent=gone, **courses_match(connection=connection))


def _dedupe(records: list[RemoteCourse]) -> list[RemoteCourse]:
    """One record per course id (PostgreSQL refuses a bulk upsert naming a key twice)."""
    return list({r.remote_id: r for r in records}.values())


def _write_page(
    connection: PlatformConnection, records: list[RemoteCourse]
) -> tuple[int, int, int]:
    existing = {
        row.remote_id: row
        for row in PlatformCourse.objects.filter(
            connection=connection, remote_id__in=[r.remote_id for r in records]
        )
    }
    new = [
        PlatformCourse(connection=connection, remote_id=r.remote_id, title=r.title)
        for r in records
        if r.remote_id not in existing
    ]
    changed = []
    for record in records:
        row = existing.get(record.remote_id)
        if row is not None and (row.title != record.title or not row.present):
            row.title, row.present = record.title, True
            changed.append(row)
    if new:
        PlatformCourse.objects.bulk_create(new)
    if changed:
        PlatformCourse.objects.bulk_update(changed, ["title", "present"])
    return len(new), len(changed), len(records) - len(new) - len(changed)


def courses_match(*, connection: PlatformConnection) -> dict[str, int]:
    """Match every present Coursebase course to the group's synced Udemy courses by title;
    only the rows whose match changed are written. Returns the count of each outcome."""
    local: dict[str, list[int]] = {}
    for course_id, title in Course.objects.filter(
        group=connection.group, status=Course.Status.ACTIVE
    ).values_list("id", "title"):
        local.setdefault(title_key(title), []).append(course_id)
    rows = list(PlatformCourse.objects.filter(connection=connection, present=True))
    remote = Counter(title_key(row.title) for row in rows)
    changed = []
    for row in rows:
        key = title_key(row.title)
        candidates = local.get(key, [])
        if len(candidates) == 1 and remote[key] == 1:
            match, course_id = PlatformCourse.Match.MATCHED, candidates[0]
        elif candidates:
            match, course_id = PlatformCourse.Match.AMBIGUOUS, None
        else:
            match, course_id = PlatformCourse.Match.NONE, None
        if (row.match, row.course_id) != (match, course_id):
            row.match, row.course_id = match, course_id
            changed.append(row)
    if changed:
        PlatformCourse.objects.bulk_update(changed, ["match", "course"], batch_size=500)
    counts = Counter(row.match for row in rows)
    return {value: counts.get(value, 0) for value in PlatformCourse.Match.values}
