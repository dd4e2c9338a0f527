"""CSV output of the statistics: the columns of the JSON rows, streamed row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from rest_framework.renderers import BaseRenderer

# A cell starting with one of these is a formula for Excel/LibreOffice (CSV injection, OWASP):
# upstream data (names, e-mails) must never run as a formula on an admin's machine.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([csv_cell(row.get(column)) for column in columns])


class CsvRenderer(BaseRenderer):
    """Selected by `?format=csv` or `Accept: text/csv`.

    The statistics view streams its CSV itself (all rows, not one page); this renderer only
    makes DRF's content negotiation accept the format, and renders a plain list if given one.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> str:
        rows = data if isinstance(data, list) else []
        columns = list(rows[0]) if rows else []
        return "".join(csv_lines(columns, rows)) if columns else ""
