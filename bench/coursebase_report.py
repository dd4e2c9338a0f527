"""Importing one large Coursebase `learners` report: peak memory of the worker, and how the
console and a run trigger of another group answer meanwhile (embedded SQLite by default).

    .venv/bin/python bench/coursebase_report.py [--rows 2000000] [--console] [--database-url URL]

A child process (`--child`) gets a fresh SQLite database in LMSBRIDGE_VAR_DIR, writes the zip of a
`learners` report of `--rows` rows, and runs one reports run through `platform_run_execute` (what
the Celery task calls; a time slice used or a pending export is executed again at once) with a
Coursebase client that serves that zip. It prints its peak RSS (ru_maxrss) before and after the
import. With `--console`, a second process logged in as another group's admin meanwhile GETs that
group's platform page and creates a run of that group, every half second, and prints the worst
and median answer times. Nothing here is product code.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COURSES = 50


def _setup(database_url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lmsbridge.settings")
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_report(path: Path, rows: int) -> None:
    """A `learners` report zip of `rows` rows, written as it is generated."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("Learners.csv", "w", force_zip64=True) as raw,
    ):
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        out.write("User ID,Login ID,Course ID,Status,Progress %,Completed at\r\n")
        for i in range(rows):
            course, user = i % COURSES, i // COURSES
            done = i % 3 == 0
            out.write(
                f"u{user},learner{user}@example.com,c{course},"
                f"{'completed' if done else 'in progress'},{100 if done else i % 97},"
                f"{'2024-02-13T07:55:31Z' if done else ''}\r\n"
            )
        out.flush()
        out.detach()


class ReportClient:
    """A Coursebase client whose exports are finished at once and whose zip is `path`."""

    write_count = 0
    waits: tuple = ()

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def report_export(self, report_type: str, **_options) -> dict:
        return self.report_status(report_type)

    def report_status(self, report_type: str) -> dict:
        return {"status": "finished", "url": f"https://bench/{report_type}.zip",
                "row_count": 0, "data_updated_at": "2024-02-13T07:55:31Z"}  # fmt: skip

    def download_export(self, url: str, out) -> int:
        if "courses" in url:
            data = b"Course ID,Title,Learners,Completed\r\nc0,Course 0,1,0\r\n"
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("Courses.csv", data)
            out.write(buffer.getvalue())
            return len(buffer.getvalue())
        with open(self.path, "rb") as source:
            size = 0
            while chunk := source.read(1 << 20):
                out.write(chunk)
                size += len(chunk)
        return size

    def wait(self, *_args) -> None:
        time.sleep(0.01)


def child(args: argparse.Namespace) -> None:
    _setup(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from integrations.core.execute import Reschedule
    from integrations.models import PlatformConnection, PlatformRun
    from integrations.platforms.coursebase.connector import CoursebaseConnector
    from integrations.services.platform_execute import platform_run_execute
    from tests.factories import GroupFactory, group_admin

    group, other = GroupFactory(slug="bench-big"), GroupFactory(slug="bench-other")
    connection = PlatformConnection.objects.create(
        group=group, kind="coursebase", coursebase_domain="bench.example.com",
        coursebase_token="t", status=PlatformConnection.Status.ACTIVE,  # noqa: S106
    )  # fmt: skip
    PlatformConnection.objects.create(
        group=other, kind="coursebase", coursebase_domain="other.example.com",
        coursebase_token="t", status=PlatformConnection.Status.ACTIVE,  # noqa: S106
    )  # fmt: skip
    group_admin(other, username="bench-admin")
    zip_path = Path(args.var_dir) / f"bench-report-{args.rows}.zip"
    if not zip_path.exists():
        write_report(zip_path, args.rows)
    CoursebaseConnector.make_client = lambda _self, _connection, **_kw: ReportClient(zip_path)
    run = PlatformRun.objects.create(connection=connection, kind="reports", trigger="manual")
    before = _rss_mb()
    print(json.dumps({"event": "start"}), flush=True)
    started, slices = time.monotonic(), 0
    while True:
        try:
            platform_run_execute(run_id=run.pk)
            break
        except Reschedule:
            slices += 1
    seconds = time.monotonic() - started
    run.refresh_from_db()
    print(json.dumps({
        "event": "done", "rows": args.rows, "status": run.status, "fetched": run.fetched,
        "seconds": round(seconds, 1), "executions": slices + 1,
        "rss_before_mb": round(before, 1), "rss_peak_mb": round(_rss_mb(), 1),
        "zip_mb": round(zip_path.stat().st_size / 2**20, 1),
    }), flush=True)  # fmt: skip


def console(args: argparse.Namespace) -> None:
    """Another group's admin: GET its platform page and create a run, until told to stop."""
    _setup(args.database_url)
    from django.test import Client
    from django.urls import reverse

    from integrations.models import PlatformConnection, PlatformRun

    client = Client()
    client.defaults["SERVER_NAME"] = "localhost"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="bench-admin")
    t0 = time.monotonic()
    try:
        client.force_login(user)  # a login writes its session
        login = {"login_ms": round(1000 * (time.monotonic() - t0))}
    except Exception as exc:
        login = {"login_ms": round(1000 * (time.monotonic() - t0)), "login_error": str(exc)}
        print(json.dumps({"event": "console", **login}), flush=True)
        return
    other = PlatformConnection.objects.get(group__slug="bench-other")
    url = reverse("platforms:connection", kwargs={"slug": "bench-other"})
    page, write, failures = [], [], 0
    stop = Path(args.stop_file)
    while not stop.exists():
        t0 = time.monotonic()
        try:
            status = client.get(url).status_code
        except Exception:
            status = 500
        t1 = time.monotonic()
        try:
            PlatformRun.objects.create(connection=other, kind="directory", trigger="manual",
                                       status="skipped")  # fmt: skip
        except Exception:
            failures += 1
        t2 = time.monotonic()
        failures += status != 200
        page.append(t1 - t0)
        write.append(t2 - t1)
        time.sleep(0.5)
    page.sort()
    write.sort()
    if not page:
        page = write = [0.0]
    print(json.dumps({"event": "console", **login, "requests": len(page), "failures": failures,
                      "page_median_ms": round(1000 * page[len(page) // 2]),
                      "page_max_ms": round(1000 * page[-1]),
                      "trigger_median_ms": round(1000 * write[len(write) // 2]),
                      "trigger_max_ms": round(1000 * write[-1])}), flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--console", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--child", choices=["import", "console"])
    parser.add_argument("--var-dir", default="")
    parser.add_argument("--stop-file", default="")
    args = parser.parse_args()
    if args.child == "import":
        return child(args)
    if args.child == "console":
        return console(args)
    var_dir = Path(os.environ.get("LMSBRIDGE_VAR_DIR") or tempfile.mkdtemp(prefix="bench-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    database = var_dir / "bench-report.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = args.database_url or f"sqlite:///{database}"
    env = {**os.environ, "DJANGO_ENV": "development", "DEBUG": "false", "LOG_LEVEL": "WARNING",
           "LMSBRIDGE_VAR_DIR": str(var_dir), "CELERY_BROKER_URL": "memory://",
           "CELERY_RESULT_BACKEND": "cache+memory://"}  # fmt: skip
    env.pop("REDIS_URL", None)
    common = ["--database-url", url, "--var-dir", str(var_dir)]
    importer = subprocess.Popen(  # noqa: S603 - this very script
        [sys.executable, __file__, "--child", "import", "--rows", str(args.rows), *common],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert importer.stdout is not None
    watcher, stop = None, var_dir / "bench-report.stop"
    stop.unlink(missing_ok=True)
    for line in importer.stdout:
        event = json.loads(line)
        if event["event"] == "start" and args.console:
            watcher = subprocess.Popen(  # noqa: S603 - this very script
                [sys.executable, __file__, "--child", "console", "--stop-file", str(stop),
                 *common],
                env=env, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
        elif event["event"] == "done":
            print(json.dumps(event))
    importer.wait()
    if watcher is not None:
        stop.touch()
        out, _ = watcher.communicate()
        print(out.strip())


if __name__ == "__main__":
    main()
