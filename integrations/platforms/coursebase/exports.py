"""Report exports of a Coursebase org: `courses` and `learners` reports → the platform-side
figures shown beside Udemy's on the course dashboard.

For each report type (Coursebase API, report.export and report.export.status):
1. `report.export` (type, language, time zone). "Only one report of each type can be exported
   at a time": a second request joins the running export, so asking again is safe.
2. Poll `report.export.status` with a growing interval (pending → started → finished) until
   `REPORT_EXPORT_MAX_WAIT`; past it the run ends *timed out*, nothing of that report stored.
3. Download the zip from the signed URL at once ("available for one hour"); an expired link
   (or `not_found` from the status) asks for a new export, `EXPIRED_RETRIES` times at most.
4. Read its CSV row by row (`report_file`), map each row (`mapping.map_report_row`: a bad row
   is a `PlatformError` naming its line, the rest imports) and store the report in **one
   transaction**: a file that breaks half-way leaves the previous figures whole.

Re-importing the same report writes nothing; a learner row gone from a complete report is
deleted (the report is the whole state of the platform).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from integrations.core.download import LinkExpired
from integrations.core.execute import RunFailed
from integrations.core.records import MappingError
from integrations.core.runs import run_add_counts, run_record_bad_items, run_record_error
from integrations.models import (
    PlatformConnection,
    PlatformCourse,
    PlatformLearnerProgress,
    PlatformRun,
)

from ..base import PlatformBadResponse, PlatformNotFound
from ..runs import run_set_details
from .client import CoursebaseClient
from .courses import courses_match
from .mapping import CourseReportRow, LearnerReportRow, map_report_row, report_columns
from .report_file import ReportFileError, report_rows

REPORTS = ("courses", "learners")
EXPIRED_RETRIES = 2
BATCH = 1000
MAX_ERRORS_RECORDED = 1000  # bad rows past this are counted, not each recorded


def export_reports(
    *,
    run: PlatformRun,
    connection: PlatformConnection,
    client: CoursebaseClient,
    on_page: Callable[[], None],
) -> None:
    """Export, download and store each report; one that cannot be read is a run error and the
    next one still runs. Credentials or availability problems end the run (raised)."""
    failures = 0
    for report_type in REPORTS:
        try:
            _export_one(run, connection, client, report_type, on_page)
        except (ReportFileError, PlatformBadResponse, PlatformNotFound) as exc:
            failures += 1
            run_record_error(run=run, category="bad_report", message=exc.message,
                             external_id=report_type, excerpt=exc.excerpt)  # fmt: skip
            run_add_counts(run=run, failed=1)
            run_set_details(run=run, stream=f"report {report_type}", outcome="not stored")
    if failures == len(REPORTS):
        raise RunFailed("bad_report", "No report could be exported: see the errors.")
    run_set_details(run=run, stream="courses", **courses_match(connection=connection))


def _export_one(
    run: PlatformRun,
    connection: PlatformConnection,
    client: CoursebaseClient,
    report_type: str,
    on_page: Callable[[], None],
) -> None:
    with tempfile.TemporaryFile(prefix="coursebase-report-") as file:
        status, size = fetch_export(client, report_type, file, on_page)
        counts = _store(run, connection, report_type, file, status)
    run_set_details(
        run=run,
        stream=f"report {report_type}",
        bytes=size,
        row_count=int(status.get("row_count") or 0),
        data_updated_at=str(status.get("data_updated_at") or ""),
        **counts,
    )


def fetch_export(
    client: CoursebaseClient, report_type: str, file: Any, on_wait: Callable[[], None]
) -> tuple[dict, int]:
    """Export one report type and download its zip into `file` (left at its start): the
    finished status and the bytes written. An expired link or a vanished export asks again."""
    language, time_zone = settings.REPORT_LANGUAGE, settings.TIME_ZONE
    status = client.report_export(report_type, language=language, time_zone=time_zone)
    for _ in range(EXPIRED_RETRIES + 1):
        finished = _wait_finished(client, report_type, status, on_wait)
        if finished is not None:
            try:
                size = client.download_export(finished["url"], file)
            except LinkExpired:
                pass
            else:
                file.seek(0)
                return finished, size
        status = client.report_export(report_type, language=language, time_zone=time_zone)
    raise PlatformBadResponse(
        f"The {report_type} report's download link kept expiring: nothing of it was stored."
    )


def _wait_finished(
    client: CoursebaseClient, report_type: str, status: dict, on_page: Callable[[], None]
) -> dict | None:
    """The finished status, polling with a growing interval; None if the export is gone."""
    max_wait = float(settings.REPORT_EXPORT_MAX_WAIT)
    interval, deadline = float(settings.REPORT_POLL_INTERVAL), time.monotonic() + max_wait
    while status["status"] != "finished":
        if time.monotonic() + interval > deadline:
            raise RunFailed(
                "timeout",
                f"Coursebase's {report_type} export was still {status['status']} after "
                f"{max_wait:g} s: nothing of it was stored; the next run asks again.",
                timed_out=True,
            )
        client.wait(f"{report_type} export {status['status']}", interval, "poll")
        interval = min(interval * 2, 30.0)
        on_page()  # renews the lease while Coursebase works
        try:
            status = client.report_status(report_type)
        except PlatformNotFound:
            return None
    return status


def _store(
    run: PlatformRun,
    connection: PlatformConnection,
    report_type: str,
    file: Any,
    status: dict,
) -> dict[str, int]:
    rows = report_rows(file)
    header = next(rows, None)
    if header is None:
        raise ReportFileError(f"The {report_type} report's CSV is empty.")
    try:
        columns = report_columns(report_type, header[1])
    except MappingError as exc:
        raise ReportFileError(f"The {report_type} report cannot be read: {exc.message}.") from None
    writer = _CourseFigures if report_type == "courses" else _LearnerProgress
    updated_at = parse_datetime(str(status.get("data_updated_at") or ""))
    with transaction.atomic():
        store = writer(connection, updated_at)
        bad = 0
        for batch, problems in _batches(report_type, columns, rows):
            store.write(batch)
            if problems and bad < MAX_ERRORS_RECORDED:
                run_record_bad_items(run=run, bad=problems[: MAX_ERRORS_RECORDED - bad])
            elif problems:
                run_add_counts(run=run, failed=len(problems))
            bad += len(problems)
        store.finish(complete=bad == 0)
        run_add_counts(run=run, fetched=store.rows, created=store.created,
                       updated=store.updated, unchanged=store.unchanged)  # fmt: skip
    return {"rows": store.rows, "created": store.created, "updated": store.updated,
            "unchanged": store.unchanged, "bad_rows": bad}  # fmt: skip


def _batches(
    report_type: str, columns: dict[str, int], rows: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[list, list]]:
    batch: list = []
    problems: list = []
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        try:
            batch.append(map_report_row(report_type, columns, cells, line))
        except MappingError as exc:
            problems.append((exc, ",".join(cells)[:300]))
        if len(batch) + len(problems) >= BATCH:
            yield batch, problems
            batch, problems = [], []
    yield batch, problems


class _Store:
    def __init__(self, connection: PlatformConnection, updated_at) -> None:
        self.connection, self.updated_at = connection, updated_at
        self.rows = self.created = self.updated = self.unchanged = 0

    def finish(self, *, complete: bool) -> None:
        """After the last batch (inside the report's transaction); `complete`: no bad row."""

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


class _CourseFigures(_Store):
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


class _LearnerProgress(_Store):
    """`learners` report rows → `PlatformLearnerProgress`; rows gone from the report deleted."""

    FIELDS = ("status", "progress", "completed_at")

    def __init__(self, connection: PlatformConnection, updated_at) -> None:
        super().__init__(connection, updated_at)
        self.seen: set[tuple[str, str]] = set()

    def write(self, batch: list[LearnerReportRow]) -> None:
        records = {(r.course_id, r.email): r for r in batch}
        self.rows += len(batch)
        self.seen.update(records)
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

    def finish(self, *, complete: bool) -> None:
        if not complete:  # a refused row may be a learner still there: delete nobody
            return
        gone = [
            pk
            for pk, course_id, email in PlatformLearnerProgress.objects.filter(
                connection=self.connection
            ).values_list("pk", "course_remote_id", "email")
            if (course_id, email) not in self.seen
        ]
        for start in range(0, len(gone), BATCH):
            PlatformLearnerProgress.objects.filter(pk__in=gone[start : start + BATCH]).delete()
