"""Report exports of a Coursebase org: `courses` and `learners` reports → the platform-side
figures shown beside Udemy's on the course dashboard.

For each report type (Coursebase API, report.export and report.export.status):
1. `report.export` (type, language, time zone). "Only one report of each type can be exported
   at a time": a second request joins the running export, so asking again is safe. When it was
   requested is stored on the run (the request itself: `export_fetch`).
2. Poll `report.export.status` with a growing interval (pending → started → finished). A few
   seconds in the task (`REPORT_POLL_INLINE`), then the task is rescheduled for the next poll:
   a pending export never holds a worker. Past `REPORT_EXPORT_MAX_WAIT` after the request the
   run ends *timed out*, nothing of that report stored.
3. Download the zip from the signed URL at once ("available for one hour") into the run's
   workspace (`REPORT_DIR`); an expired link (or `not_found` from the status) asks for a new
   export, `EXPIRED_RETRIES` times at most. The whole CSV is read once (`report_file`) before
   anything is written: a file that cannot be read leaves the previous figures whole.
4. Map each row (`mapping.map_report_row`: a bad row is a `PlatformError` naming its line, the
   rest imports) and store the report **one batch of `BATCH` rows per transaction**, with the
   run's counts and its checkpoint (the last line stored): the database is never held by one
   report for longer than a batch, and a run rescheduled (time slice, worker lost) goes on from
   its checkpoint with the file it downloaded.

Re-importing the same report writes nothing; a learner row gone from a complete report is
deleted (the report is the whole state of the platform), once its last batch is stored.
Memory is bounded by a batch (`report_store`), whatever the size of the report.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from integrations.core.download import LinkExpired
from integrations.core.execute import Reschedule, RunFailed
from integrations.core.netutil import setting
from integrations.core.records import MappingError
from integrations.core.runs import run_add_counts, run_record_bad_items, run_record_error
from integrations.models import PlatformConnection, PlatformRun

from ..base import PlatformBadResponse, PlatformNotFound
from ..runs import run_set_details
from .client import CoursebaseClient
from .courses import courses_match
from .export_fetch import (
    EXPIRED_RETRIES,
    MAX_POLL_INTERVAL,
    export_timed_out,
    report_zone,
    request_export,
)
from .mapping import map_report_row, report_columns
from .report_file import ReportFileError, report_rows
from .report_store import COUNTS, CourseFigures, LearnerProgress, Store

logger = logging.getLogger(__name__)

REPORTS = ("courses", "learners")
BATCH = 5000  # rows per transaction: how long one report may hold the database at a time
MAX_ERRORS_RECORDED = 1000  # bad rows past this are counted, not each recorded
STATE_KEY = "checkpoints"  # a list (the run page lists the dict entries of details as streams)
STALE_WORKSPACE_SECONDS = 2 * 86400


def export_reports(
    *,
    run: PlatformRun,
    connection: PlatformConnection,
    client: CoursebaseClient,
    on_page: Callable[[], None],
) -> None:
    """Export, download and store each report; one that cannot be read is a run error and the
    next one still runs. Credentials or availability problems end the run (raised); a pending
    export or a used time slice raises `Reschedule` (the run goes on from its checkpoint)."""
    try:
        for report_type in REPORTS:
            state = _state(run, report_type)
            if state.get("phase") == "done":
                continue  # stored (or refused) before the run was rescheduled
            try:
                _export_one(_Report(run, connection, client, report_type, on_page), state)
            except (ReportFileError, PlatformBadResponse, PlatformNotFound) as exc:
                _refused(run, report_type, exc)
    except Reschedule:
        raise
    except BaseException:
        _workspace_remove(run)
        raise
    _workspace_remove(run)
    if all(_state(run, t).get("outcome") == "not stored" for t in REPORTS):
        raise RunFailed("bad_report", "No report could be exported: see the errors.")
    run_set_details(run=run, stream="courses", **courses_match(connection=connection))


def _refused(run: PlatformRun, report_type: str, exc: PlatformBadResponse) -> None:
    with transaction.atomic():
        run_record_error(run=run, category="bad_report", message=exc.message,
                         external_id=report_type, excerpt=exc.excerpt)  # fmt: skip
        run_add_counts(run=run, failed=1)
        run_set_details(run=run, stream=f"report {report_type}", outcome="not stored")
        _save_state(run, report_type, {"phase": "done", "outcome": "not stored"})


# --------------------------------------------------------------------------- checkpoints


def _state(run: PlatformRun, report_type: str) -> dict[str, Any]:
    states = run.details.get(STATE_KEY) or []
    return dict(next((s for s in states if s.get("report") == report_type), {}))


def _save_state(run: PlatformRun, report_type: str, state: dict[str, Any]) -> None:
    """Store the report's checkpoint on the run (inside the caller's transaction, if any)."""
    others = [s for s in run.details.get(STATE_KEY) or [] if s.get("report") != report_type]
    run.details[STATE_KEY] = [*others, {**state, "report": report_type}]
    PlatformRun.objects.filter(pk=run.pk).update(details=run.details)


def _workspace(run: PlatformRun) -> Path:
    """The run's files (downloaded zips, seen keys): kept while it is rescheduled."""
    root = Path(setting("REPORT_DIR", "") or Path(settings.VAR_DIR) / "coursebase-reports")
    path = root / f"run-{run.pk}"
    if not path.exists():
        _prune(root)
        path.mkdir(parents=True, exist_ok=True)
    return path


def _prune(root: Path) -> None:
    """Forget the workspaces of runs that never came back (a worker lost for good)."""
    if not root.exists():
        return
    for old in root.glob("run-*"):
        try:
            if time.time() - old.stat().st_mtime > STALE_WORKSPACE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


def _workspace_remove(run: PlatformRun) -> None:
    root = Path(setting("REPORT_DIR", "") or Path(settings.VAR_DIR) / "coursebase-reports")
    shutil.rmtree(root / f"run-{run.pk}", ignore_errors=True)


# --------------------------------------------------------------------------- one report


@dataclass(frozen=True)
class _Report:
    """One report of the run being exported: where it comes from, where it goes, whom to tell
    between pages."""

    run: PlatformRun
    connection: PlatformConnection
    client: CoursebaseClient
    type: str
    on_page: Callable[[], None]

    @property
    def path(self) -> Path:
        """The downloaded zip, in the run's workspace."""
        return _workspace(self.run) / f"{self.type}.zip"

    def save(self, state: dict[str, Any]) -> None:
        _save_state(self.run, self.type, state)


def _export_one(report: _Report, state: dict[str, Any]) -> None:
    path = report.path
    if state.get("phase") == "import" and not path.exists():
        # Rescheduled onto a worker that does not hold the file: start this report again
        # (the rows already stored are rewritten as unchanged).
        logger.info("run %s: %s report file gone, exporting it again", report.run.pk, report.type)
        state = {}
    if state.get("phase") != "import":
        state = _download(report, state, path)
    _import(report, state, path)


def _download(report: _Report, state: dict[str, Any], path: Path) -> dict[str, Any]:
    """The export finished and its zip at `path`, read through once: the import's state."""
    while True:
        finished = _await_export(report, state)
        try:
            with open(path, "wb") as file:
                size = report.client.download_export(finished["url"], file)
        except LinkExpired:
            expired = int(state.get("expired", 0)) + 1
            if expired > EXPIRED_RETRIES:
                raise PlatformBadResponse(
                    f"The {report.type} report's download link kept expiring: nothing of it "
                    "was stored."
                ) from None
            state = {"expired": expired}  # a new export is requested
            continue
        rows = _verify(report.type, path)
        state = {
            "phase": "import", "line": 1, "bad": 0, "bytes": size, "file_rows": rows,
            "row_count": int(finished.get("row_count") or 0),
            "data_updated_at": str(finished.get("data_updated_at") or ""),
        }  # fmt: skip
        report.save(state)
        return state


def _await_export(report: _Report, state: dict[str, Any]) -> dict:
    """The finished status of the report's export (requested now, or earlier by this run).
    Polls in the task for `REPORT_POLL_INLINE` seconds, then raises `Reschedule`."""
    client, report_type = report.client, report.type
    max_wait = float(settings.REPORT_EXPORT_MAX_WAIT)
    interval = float(state.get("interval") or settings.REPORT_POLL_INTERVAL)
    inline_until = time.monotonic() + float(setting("REPORT_POLL_INLINE", 5.0))
    if "requested_at" not in state:
        status = request_export(client, report_type)
        state.update(requested_at=time.time(), interval=interval)
        report.save(state)
    else:
        status = _status_or_new_export(report, state)
    while status["status"] != "finished":
        waited = time.time() - float(state["requested_at"])
        if waited + interval > max_wait:
            raise export_timed_out(report_type, status, max_wait)
        state["interval"] = min(interval * 2, MAX_POLL_INTERVAL)
        if time.monotonic() + interval > inline_until:
            report.save(state)
            raise Reschedule(
                report.run.pk, interval, f"Coursebase's {report_type} export is {status['status']}"
            )
        client.wait(f"{report_type} export {status['status']}", interval, "poll")
        interval = state["interval"]
        report.on_page()  # renews the lease while Coursebase works
        status = _status_or_new_export(report, state)
    return status


def _status_or_new_export(report: _Report, state: dict[str, Any]) -> dict:
    try:
        return report.client.report_status(report.type)
    except PlatformNotFound:  # the export is gone (its hour passed): ask again
        expired = int(state.get("expired", 0)) + 1
        if expired > EXPIRED_RETRIES:
            raise
        state["expired"] = expired
        report.save(state)
        return request_export(report.client, report.type)


def _verify(report_type: str, path: Path) -> int:
    """Read the whole CSV once (bounded memory): a file that breaks anywhere is refused before
    any of it is written. Its number of lines."""
    with open(path, "rb") as file:
        rows = report_rows(file)
        header = next(rows, None)
        if header is None:
            raise ReportFileError(f"The {report_type} report's CSV is empty.")
        _columns(report_type, header[1])
        lines = 1
        for lines, _cells in rows:  # noqa: B007 - the count is the last line number
            pass
    return lines


def _columns(report_type: str, header: list[str]) -> dict[str, int]:
    try:
        return report_columns(report_type, header)
    except MappingError as exc:
        raise ReportFileError(f"The {report_type} report cannot be read: {exc.message}.") from None


def _import(report: _Report, state: dict[str, Any], path: Path) -> None:
    """Store the report's rows after `state["line"]`, a batch per transaction."""
    report_type, connection = report.type, report.connection
    updated_at = parse_datetime(state.get("data_updated_at") or "")
    if report_type == "courses":
        store: Store = CourseFigures(connection, updated_at)
    else:
        store = LearnerProgress(connection, updated_at, seen_path=path.with_suffix(".seen"))
    try:
        with open(path, "rb") as file:
            rows = report_rows(file)
            columns = _columns(report_type, next(rows)[1])
            for batch, problems, line in _batches(report_type, columns, rows, state["line"]):
                _commit_batch(report, store, state, (batch, problems, line))
                report.on_page()  # between two transactions: renew the lease, maybe yield
        store.finish(complete=state["bad"] == 0, batch_size=BATCH)
    finally:
        store.close()
    totals = {name: state.get(name, 0) for name in COUNTS}
    with transaction.atomic():
        report.save({"phase": "done", "outcome": "stored"})
        run_set_details(
            run=report.run, stream=f"report {report_type}", bytes=state["bytes"],
            row_count=state["row_count"], data_updated_at=state["data_updated_at"],
            bad_rows=state["bad"], **totals,
        )  # fmt: skip


def _commit_batch(
    report: _Report, store: Store, state: dict[str, Any], batch: tuple[list, list, int]
) -> None:
    """One batch (records, refused rows, last line), its refused rows, the run's counts and the
    checkpoint: one transaction."""
    records, problems, line = batch
    run = report.run
    store.before_commit(records)
    before = store.counts()
    with transaction.atomic():
        store.write(records)
        bad = state["bad"]
        recorded = problems[: max(0, MAX_ERRORS_RECORDED - bad)]
        if recorded:
            run_record_bad_items(run=run, bad=recorded)
        delta = {name: value - before[name] for name, value in store.counts().items()}
        for name, value in delta.items():
            state[name] = state.get(name, 0) + value
        state.update(line=line, bad=bad + len(problems))
        report.save(state)
        run_add_counts(run=run, fetched=delta["rows"], created=delta["created"],
                       updated=delta["updated"], unchanged=delta["unchanged"],
                       failed=len(problems) - len(recorded))  # fmt: skip


def _batches(
    report_type: str, columns: dict[str, int], rows: Iterator[tuple[int, list[str]]], after: int
) -> Iterator[tuple[list, list, int]]:
    """(records, refused rows, last line) of each batch of the lines past `after`."""
    batch: list = []
    problems: list = []
    line = after
    for line, cells in rows:
        if line <= after or not any(cell.strip() for cell in cells):
            continue
        try:
            batch.append(map_report_row(report_type, columns, cells, line, report_zone()))
        except MappingError as exc:
            problems.append((exc, ",".join(cells)[:300]))
        if len(batch) + len(problems) >= BATCH:
            yield batch, problems, line
            batch, problems = [], []
    if batch or problems:
        yield batch, problems, line
