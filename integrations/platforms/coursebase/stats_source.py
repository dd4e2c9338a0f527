"""Coursebase's `udemy_user_course_activity` report as the source of a Udemy statistics sync,
for organizations whose Udemy Business account is connected through Coursebase (Coursebase API,
report.export: "udemy_user_course_activity * Only valid for certain orgs").

The report is exported and downloaded once per sync (`export_fetch.fetch_export`), kept in a
temporary file for the run, and handed to the statistics sync as pages of 100 rows shaped like
Udemy's user-course-activity results (Udemy API guide, "User Course Activity"), so the same
mapping, attempt rules and completion-ratio scale apply. The CSV's columns are not documented:
they are found by Udemy's field names, case, spacing and punctuation aside ("User Email" →
`user_email`). Pages are numbered as the file is read: a resumed run skips the committed ones,
and the scale's second reading of some pages reads the same file again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from integrations.models import Integration, PlatformConnection

from ..base import PlatformConfigError
from .export_fetch import fetch_export, report_zone
from .mapping import header_key, report_moment
from .report_file import ReportFileError, report_rows

REPORT_TYPE = "udemy_user_course_activity"
PAGE_SIZE = 100
FIELDS = (
    "course_id", "user_email", "course_enroll_date", "course_start_date",
    "course_last_accessed_date", "course_completion_date", "completion_ratio",
    "num_video_consumed_minutes",
)  # fmt: skip
REQUIRED = ("course_id", "user_email", "completion_ratio")


@dataclass
class ReportPage:
    number: int
    count: int | None
    results: list[dict] = field(default_factory=list)


def source_connection(integration: Integration) -> PlatformConnection | None:
    """The group's Coursebase connection when it is the statistics source of its integration."""
    return PlatformConnection.objects.filter(
        group_id=integration.group_id, kind="coursebase", udemy_stats_from_report=True
    ).first()


@contextmanager
def stats_pages(
    integration: Integration, on_wait: Callable[[], None], *, make_client: Callable[..., Any]
) -> Iterator[Callable[[int], Iterator[ReportPage]] | None]:
    """The report's pages (`pages(start)`) for the run, or None when Coursebase is not this
    integration's statistics source (the sync then reads Udemy's API). `make_client`: the
    connector's."""
    connection = source_connection(integration)
    if connection is None:
        yield None
        return
    if connection.status not in PlatformConnection.running_statuses():
        raise PlatformConfigError(
            "Statistics come from Coursebase, whose connection is not tested: test it on the "
            "Learning platform page."
        )
    with make_client(connection) as client, tempfile.TemporaryFile() as file:
        status, _size = fetch_export(client, REPORT_TYPE, file, on_wait)
        count = int(status.get("row_count") or 0) or None
        yield lambda start: _pages(file, start, count)


def _pages(file: Any, start: int, count: int | None) -> Iterator[ReportPage]:
    rows = report_rows(file)
    header = next(rows, None)
    if header is None:
        raise ReportFileError("Coursebase's udemy_user_course_activity report is empty.")
    columns = _columns(header[1])
    current, results = max(start, 1), []
    kept = (cells for _line, cells in rows if any(cell.strip() for cell in cells))
    for index, cells in enumerate(kept):
        number = index // PAGE_SIZE + 1
        if number < start:
            continue  # committed by the run before it was resumed
        if number != current:
            yield ReportPage(current, count, results)
            current, results = number, []
        results.append(_row(columns, cells))
    if results or current == 1:
        yield ReportPage(current, count, results)


def _columns(header: list[str]) -> dict[str, int]:
    keys = [header_key(name) for name in header]
    wanted = {header_key(name): name for name in FIELDS}
    columns = {wanted[key]: i for i, key in enumerate(keys) if key in wanted}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ReportFileError(
            "Coursebase's udemy_user_course_activity report has no column for "
            f"{', '.join(missing)}: nothing was applied."
        )
    return columns


DATE_FIELDS = frozenset(
    ("course_enroll_date", "course_start_date", "course_last_accessed_date",
     "course_completion_date")
)  # fmt: skip


def _with_zone(value: str) -> str:
    """A report date with its offset: a date without one is in the zone the export was requested
    in (the Udemy mapping reads an offset-less date as UTC). Text that is not a date goes on as it
    is: the mapping reports it as a bad item."""
    if not value:
        return value
    try:
        return report_moment(value, report_zone()).isoformat()
    except ValueError:
        return value


def _row(columns: dict[str, int], cells: list[str]) -> dict[str, Any]:
    """A CSV row as the JSON Udemy's API answers: blanks are null (numbers stay text: the
    Udemy payload reads numeric text as numbers and reports the rest as bad items)."""
    row: dict[str, Any] = {}
    for name, index in columns.items():
        value = cells[index].strip() if index < len(cells) else ""
        row[name] = (_with_zone(value) if name in DATE_FIELDS else value) or None
    if row.get("user_email") is None:
        row["user_email"] = ""
    return row
