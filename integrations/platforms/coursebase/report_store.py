"""Writing the rows of a Coursebase report export, one bounded batch at a time (`exports`
commits each batch with its checkpoint): `courses` rows → the figures of `PlatformCourse`,
`learners` rows → `PlatformLearnerProgress`.

Memory is bounded by a batch, never by the report. A key seen twice is deduplicated within
its batch and, across batches, by the table's unique constraint (the second row finds the
first one written). The learner rows the report holds, needed at the end to delete the ones
gone from it, are kept in a SQLite file next to the downloaded report (`SeenKeys`), not in a
set of every row, which would grow with the report (BENCHMARKS.md, *Bounded state*).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from integrations.models import PlatformConnection, PlatformCourse, PlatformLearnerProgress

from .mapping import CourseReportRow, LearnerReportRow

COUNTS = ("rows", "created", "updated", "unchanged")


class SeenKeys:
    """The (course, e-mail) keys of a report's learner rows, on disk (a table of a SQLite file
    of the run's workspace; it outlives a rescheduled execution on the same worker)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS seen (course TEXT, email TEXT, "
            "PRIMARY KEY (course, email)) WITHOUT ROWID"
        )

    def add(self, keys: Iterable[tuple[str, str]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", keys)
        self.db.execute("COMMIT")

    def missing(self, rows: list[tuple[int, str, str]]) -> list[int]:
        """The ids of `rows` (id, course, e-mail) whose key was not seen."""
        self.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS probe (id INTEGER, course TEXT, email TEXT)"
        )
        self.db.execute("DELETE FROM probe")
        self.db.executemany("INSERT INTO probe VALUES (?, ?, ?)", rows)
        found = self.db.execute(
            "SELECT id FROM probe WHERE NOT EXISTS "
            "(SELECT 1 FROM seen WHERE seen.course = probe.course AND seen.email = probe.email)"
        )
        return [row[0] for row in found]

    def close(self) -> None:
        self.db.close()


class Store:
    FIELDS: tuple[str, ...] = ()

    def __init__(self, connection: PlatformConnection, updated_at: datetime | None) -> None:
        self.connection, self.updated_at = connection, updated_at
        self.rows = self.created = self.updated = self.unchanged = 0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def before_commit(self, batch: list) -> None:
        """Called before the batch's transaction (what must be on disk even if it rolls back)."""

    def write(self, batch: list) -> None:
        raise NotImplementedError

    def finish(self, *, complete: bool, batch_size: int) -> None:
        """After the last batch; `complete`: no bad row in the whole report."""

    def close(self) -> None:
        """Release what the store holds (files)."""

    def _apply(self, records: dict, existing: dict, new_row: Callable) -> tuple[list, list]:
        """Set `FIELDS` from each record on its row (`new_row(key, record)` when there is
        none): the new rows and the changed ones; an unchanged row is counted, not written."""
        new, changed = [], []
        for key, record in records.items():
            row = existing.get(key)
            if row is None:
                row = new_row(key, record)
                new.append(row)
            elif all(getattr(row, f) == getattr(record, f) for f in self.FIELDS):
                self.unchanged += 1
                continue
            else:
                changed.append(row)
            for name in self.FIELDS:
                setattr(row, name, getattr(record, name))
        self.created += len(new)
        self.updated += len(changed)
        return new, changed


class CourseFigures(Store):
    """`courses` report rows → the figures of `PlatformCourse` (a course the list has not
    shown yet is added with the report's title, and matched like the others)."""

    FIELDS = ("learners", "completed", "completion_rate")

    def write(self, batch: list[CourseReportRow]) -> None:
        records = {r.course_id: r for r in batch}
        self.rows += len(batch)
        existing = {
            row.remote_id: row
            for row in PlatformCourse.objects.filter(
                connection=self.connection, remote_id__in=list(records)
            )
        }
        new, changed = self._apply(
            records,
            existing,
            lambda course_id, record: PlatformCourse(
                connection=self.connection, remote_id=course_id, title=record.title or course_id
            ),
        )
        for row in (*new, *changed):
            row.report_updated_at = self.updated_at
        PlatformCourse.objects.bulk_create(new)
        PlatformCourse.objects.bulk_update(changed, [*self.FIELDS, "report_updated_at"])


class LearnerProgress(Store):
    """`learners` report rows → `PlatformLearnerProgress`; rows gone from the report deleted."""

    FIELDS = ("status", "progress", "completed_at")

    def __init__(
        self, connection: PlatformConnection, updated_at: datetime | None, *, seen_path: Path
    ) -> None:
        super().__init__(connection, updated_at)
        self.seen = SeenKeys(seen_path)

    def before_commit(self, batch: list[LearnerReportRow]) -> None:
        # On disk before the rows are committed: a batch replayed after a crash adds its keys
        # again (ignored), a committed batch never lacks them.
        self.seen.add((r.course_id, r.email) for r in batch)

    def write(self, batch: list[LearnerReportRow]) -> None:
        records = {(r.course_id, r.email): r for r in batch}
        self.rows += len(batch)
        existing = {
            (row.course_remote_id, row.email): row
            for row in PlatformLearnerProgress.objects.filter(
                connection=self.connection,
                course_remote_id__in={k[0] for k in records},
                email__in={k[1] for k in records},
            )
        }
        new, changed = self._apply(
            records,
            existing,
            lambda key, _record: PlatformLearnerProgress(
                connection=self.connection, course_remote_id=key[0], email=key[1]
            ),
        )
        PlatformLearnerProgress.objects.bulk_create(new)
        PlatformLearnerProgress.objects.bulk_update(changed, list(self.FIELDS))

    def finish(self, *, complete: bool, batch_size: int) -> None:
        if not complete:  # a refused row may be a learner still there: delete nobody
            return
        rows = PlatformLearnerProgress.objects.filter(connection=self.connection).order_by("pk")
        after = 0
        while chunk := list(
            rows.filter(pk__gt=after).values_list("pk", "course_remote_id", "email")[:batch_size]
        ):
            after = chunk[-1][0]
            if gone := self.seen.missing(chunk):
                PlatformLearnerProgress.objects.filter(pk__in=gone).delete()

    def close(self) -> None:
        self.seen.close()
