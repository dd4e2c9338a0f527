"""CSV downloads, streamed row by row: the API's statistics and the console's learners export.

One writer for both, so both are safe the same way: a cell that a spreadsheet would run as a
formula (CSV injection, OWASP) is prefixed with a quote, and no export is held in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

# A text cell starting with one of these is a formula for Excel/LibreOffice: upstream data
# (names, e-mails) must never run as a formula on an admin's machine.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    """None is empty, booleans are true/false, datetimes local ISO 8601 to the second; text
    that a spreadsheet would evaluate is defused with a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header, then one line per row (a mapping of column to value), lazily."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([csv_cell(row.get(column)) for column in columns])


def csv_response(
    columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *, filename: str
) -> StreamingHttpResponse:
    """A streamed CSV attachment: constant memory whatever the number of rows."""
    response = StreamingHttpResponse(csv_lines(columns, rows), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
