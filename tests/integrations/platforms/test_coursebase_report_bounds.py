"""A Coursebase report of any size is imported in bounded memory, never holds the database or a
worker for longer than a batch, and a run that yields (time slice, pending export) goes on
from its checkpoint."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.db import connection as db

from integrations.core.execute import Reschedule
from integrations.models import PlatformConnection, PlatformLearnerProgress, PlatformRun
from integrations.platforms.coursebase.connector import CoursebaseConnector
from integrations.platforms.coursebase.report_file import ReportFileError, report_rows
from integrations.services.platform_execute import PlatformExecutor, platform_run_execute
from tests.factories import GroupFactory

HEADER = "User ID,Login ID,Course ID,Status,Progress %,Completed at\r\n"


def learners_zip(path: Path, rows: int, *, courses: int = 20) -> Path:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("Learners.csv", "w") as raw,
    ):
        raw.write(HEADER.encode())
        for i in range(rows):
            user = i // courses
            raw.write(f"u{user},l{user}@example.com,c{i % courses},,{i % 100},\r\n".encode())
    return path


class ZipClient:
    """A Coursebase client whose exports finish at once and serve local zips."""

    write_count, waits = 0, ()

    def __init__(self, learners: Path) -> None:
        self.learners, self.exports = learners, []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def report_export(self, report_type: str, **_options) -> dict:
        self.exports.append(report_type)
        return self.report_status(report_type)

    def report_status(self, report_type: str) -> dict:
        return {"status": "finished", "url": report_type, "data_updated_at": "2024-02-13T07:55Z"}

    def download_export(self, url: str, out) -> int:
        if url == "courses":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr(
                    "Courses.csv", "Course ID,Title,Learners,Completed\r\nc0,C,1,0\r\n"
                )
            return out.write(buffer.getvalue())
        return out.write(self.learners.read_bytes())


@pytest.fixture
def zip_connection(monkeypatch, tmp_path):
    """A Coursebase connection whose client is a `ZipClient` (`.client`)."""
    conn = PlatformConnection.objects.create(
        group=GroupFactory(), kind="coursebase", coursebase_domain="acme.coursebase.co",
        coursebase_token="token", status=PlatformConnection.Status.ACTIVE,
    )  # fmt: skip
    conn.client = ZipClient(tmp_path / "learners.zip")
    monkeypatch.setattr(
        CoursebaseConnector, "make_client", lambda _self, _connection, **_kw: conn.client
    )
    return conn


def run_to_the_end(connection: PlatformConnection, executor=None) -> tuple[PlatformRun, int]:
    """Execute a reports run as the task does until it ends; the run and its executions."""
    run = PlatformRun.objects.create(connection=connection, kind="reports", trigger="manual")
    executions = 0
    while run.status not in PlatformRun.FINISHED:
        executions += 1
        with contextlib.suppress(Reschedule):
            (executor or PlatformExecutor()).execute(run_id=run.pk)
        run.refresh_from_db()
    return run, executions


# --------------------------------------------------------------------------- memory


def test_a_line_longer_than_64_kib_is_refused_without_being_read_whole():
    """An 8 MiB line (four million cells) costs at most a row's bound in memory, never the
    line: before, it was split into cells first (~170 MB) and then found to have too many."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Learners.csv", HEADER.encode() + b"ab," * (8 * 2**20 // 3) + b"\r\n")
    buffer.seek(0)
    tracemalloc.start()
    try:
        with pytest.raises(ReportFileError, match=r"Line 2 of the report is longer than 64 KiB"):
            for _ in report_rows(buffer):
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20, peak


@pytest.mark.django_db(transaction=True)
def test_the_memory_of_a_learners_import_does_not_grow_with_its_rows(zip_connection, monkeypatch):
    """4,000 and 40,000 rows (batches of 1,000) peak at the same memory: a batch, no set or
    list of every row (before: ~660 bytes a row, 2,000,000 rows held 1.4 GB)."""
    from integrations.platforms.coursebase import exports

    monkeypatch.setattr(exports, "BATCH", 1000)
    peaks = []
    for rows in (4_000, 40_000):
        learners_zip(zip_connection.client.learners, rows)
        PlatformLearnerProgress.objects.all().delete()
        tracemalloc.start()
        try:
            run, _ = run_to_the_end(zip_connection)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
        assert PlatformLearnerProgress.objects.count() == rows
    small, large = peaks
    assert large < small * 1.25 + 2 * 2**20, (small, large)


# --------------------------------------------------------------------------- the database


@pytest.mark.django_db(transaction=True)
def test_another_connection_writes_between_the_batches_of_a_large_report(zip_connection, settings):
    """A large report on SQLite commits per batch: between two, another connection takes the
    write lock at once (a login, another group's trigger). Before, the whole report was one
    transaction and every other writer waited for it (30 s, then "database is locked")."""
    if db.vendor != "sqlite":
        pytest.skip("the embedded database's single writer lock")
    learners_zip(zip_connection.client.learners, 23_000)
    probes: list[tuple[int, bool]] = []

    def probe(_run) -> None:
        other = sqlite3.connect(db.settings_dict["NAME"], timeout=0.2)
        try:
            other.execute("BEGIN IMMEDIATE")  # the write lock, as any writer takes it
            other.execute("ROLLBACK")
            locked = False
        except sqlite3.OperationalError:
            locked = True
        stored = other.execute("SELECT count(*) FROM integrations_platformlearnerprogress")
        probes.append((stored.fetchone()[0], locked))
        other.close()

    run, _ = run_to_the_end(zip_connection, PlatformExecutor(progress=probe))

    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    during = [p for p in probes if 0 < p[0] < 23_000]
    assert len(during) >= 3, probes  # 5,000 rows a batch: visible to others as they commit
    assert not any(locked for _, locked in probes), probes


# --------------------------------------------------------------------------- the worker


@pytest.mark.django_db(transaction=True)
def test_a_time_sliced_report_goes_on_from_its_checkpoint(zip_connection, settings):
    """A run whose slice is used yields its worker between two batches and the next execution
    goes on from the last committed line: every row stored once, counted once, one export."""
    settings.RUN_TIME_SLICE = 0.001
    learners_zip(zip_connection.client.learners, 12_000)

    run, executions = run_to_the_end(zip_connection)

    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    assert executions >= 3  # 3 batches of the learners report, each in its own slice
    assert PlatformLearnerProgress.objects.count() == 12_000
    assert (run.fetched, run.created) == (12_001, 12_001)  # + the courses report's row
    assert run.details["report learners"]["rows"] == 12_000
    assert zip_connection.client.exports == ["courses", "learners"]
    workspace = Path(settings.VAR_DIR) / "coursebase-reports" / f"run-{run.pk}"
    assert not workspace.exists()  # the downloaded files go with the run


@pytest.mark.django_db
def test_a_pending_export_reschedules_the_task_instead_of_sleeping_in_it(
    coursebase_sandbox, make_connection, settings
):
    """While Coursebase works on an export the task is rescheduled (the worker is free); the
    export's wait is bounded from when it was requested, across executions."""
    settings.REPORT_POLL_INTERVAL = 0.01
    settings.REPORT_POLL_INLINE = 0
    settings.REPORT_EXPORT_MAX_WAIT = 0.5
    coursebase_sandbox.reports.never_finish.add("courses")
    connection = make_connection(coursebase_sandbox)
    run = PlatformRun.objects.create(connection=connection, kind="reports", trigger="manual")

    with pytest.raises(Reschedule) as first:
        platform_run_execute(run_id=run.pk)
    assert "courses export is pending" in first.value.reason
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.RUNNING
    countdowns = [first.value.countdown]
    while run.status not in PlatformRun.FINISHED:
        try:
            platform_run_execute(run_id=run.pk)
        except Reschedule as exc:
            countdowns.append(exc.countdown)
        run.refresh_from_db()
    assert run.status == PlatformRun.Status.TIMED_OUT
    assert "still" in run.error_summary
    assert len(countdowns) >= 2 and max(countdowns) <= 30
    requests = [
        r for r in coursebase_sandbox.reports.export_requests if r["report_type"] == "courses"
    ]
    assert len(requests) == 1  # one export, polled across executions
