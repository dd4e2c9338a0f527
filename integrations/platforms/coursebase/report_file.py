"""Reading a Coursebase report export: a zip holding one CSV file (Coursebase API,
report.export.status: ".../csv/Learners.zip"), read row by row, never whole in memory.

A file that is not a zip, a zip with no CSV, a CSV larger than `REPORT_MAX_CSV_MB` once
inflated (a zip bomb stops as it inflates: the sizes in the zip's directory are not trusted),
a row longer than `MAX_ROW_BYTES` or a line that is not CSV raise `ReportFileError`; rows are
handed out as lists of strings with their line number, for the pure mapping to judge one by one.

Memory is bounded by a row, never by the file: lines are read with a bounded `readline`, so a
200 MB line is refused after its first 64 KiB instead of being split into a hundred million
cells first (a row is at most `MAX_ROW_BYTES` also when quoted line breaks spread it over
several lines).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import IO

from integrations.core.netutil import setting

from ..base import PlatformBadResponse

MAX_COLUMNS = 200
MAX_ROW_BYTES = 64 * 1024  # a learner row is ~100 bytes: 64 KiB is far past any real one


class ReportFileError(PlatformBadResponse):
    """The downloaded export cannot be read: nothing of it is stored."""


class _Bounded(io.RawIOBase):
    """A read-only stream that refuses to inflate past `limit` bytes."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw, self.limit, self.size = raw, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        self.size += len(data)
        if self.size > self.limit:
            raise ReportFileError(
                f"The report's CSV is larger than {self.limit // 2**20} MB once unzipped: refused."
            )
        buffer[: len(data)] = data
        return len(data)


class _Lines:
    """The CSV's lines as text for `csv.reader`, each read with a bounded `readline`;
    `row_bytes` counts the bytes handed out since the caller last reset it (one row)."""

    def __init__(self, binary: IO[bytes], limit: int) -> None:
        self.binary, self.limit, self.row_bytes, self.row = binary, limit, 0, 1
        self.first = True

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.binary.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.row_bytes += len(line)
        if self.row_bytes > self.limit:
            raise ReportFileError(
                f"Line {self.row} of the report is longer than {self.limit // 1024} KiB: the "
                "file was refused, nothing of this report was stored."
            )
        if self.first:
            self.first = False
            line = line.removeprefix(b"\xef\xbb\xbf")  # the UTF-8 byte order mark
        return line.decode("utf-8")


def report_rows(file: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every line of the export's CSV, the header first (line 1)."""
    if not zipfile.is_zipfile(file):
        raise ReportFileError("The report export is not a zip file: nothing was imported.")
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as exc:
        raise ReportFileError(f"The report export is a damaged zip file ({exc}).") from None
    with archive:
        member = next((m for m in archive.infolist() if m.filename.lower().endswith(".csv")), None)
        if member is None:
            raise ReportFileError("The report export holds no CSV file: nothing was imported.")
        limit = int(float(setting("REPORT_MAX_CSV_MB", 2000)) * 2**20)
        try:
            with archive.open(member) as raw:
                lines = _Lines(io.BufferedReader(_Bounded(raw, limit)), MAX_ROW_BYTES)
                for number, cells in enumerate(csv.reader(lines), start=1):
                    if len(cells) > MAX_COLUMNS:
                        raise ReportFileError(f"Line {number} of the report has too many columns.")
                    lines.row_bytes, lines.row = 0, number + 1
                    yield number, cells
        except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, EOFError) as exc:
            raise ReportFileError(
                f"The report's CSV cannot be read ({type(exc).__name__}): nothing of this "
                "report was stored."
            ) from None
