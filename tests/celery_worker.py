"""Start a real Celery worker (and beat) as subprocesses, on whatever broker the settings name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: same settings, pointed at the *test* database."""
    env = dict(os.environ)
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        user = db.get("USER") or ""
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = db.get("HOST") or "127.0.0.1"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}{port}/{db['NAME']}"
    env["DJANGO_SETTINGS_MODULE"] = "lmsbridge.settings"
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["CELERY_RESULT_BACKEND"] = settings.CELERY_RESULT_BACKEND
    env["LMSBRIDGE_VAR_DIR"] = str(settings.VAR_DIR)
    # Each line reaches the log file when written: a worker killed after its stop timeout
    # loses no buffered line a test reads.
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def worker_args(queue: str, *extra: str, named: bool = True) -> tuple[str, ...]:
    """`celery worker` arguments for one slot consuming only `queue` (a test's own queue, away
    from any other worker of the shared broker), named after it unless `named` is false."""
    name = ("-n", f"{queue}@%h") if named else ()
    return (
        "worker",
        "-Q",
        queue,
        "--concurrency",
        "1",
        *extra,
        "--without-mingle",
        "--without-gossip",
        "-l",
        "info",
        *name,
    )


@contextmanager
def celery_process(*args: str, log: Path, **env: str) -> Iterator[subprocess.Popen]:
    cmd = [sys.executable, "-m", "celery", "-A", "lmsbridge", *args]
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=subprocess_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop_process(proc)


@contextmanager
def ready_workers(queue: str, logs: list[Path], **env: str) -> Iterator[list[subprocess.Popen]]:
    """One `celery worker` process per log file, all consuming `queue`, each ready."""
    with ExitStack() as stack:
        procs = [
            stack.enter_context(celery_process(*worker_args(queue, named=False), log=log, **env))
            for log in logs
        ]
        for log in logs:
            wait_for(lambda log=log: "ready" in log.read_text(), timeout=60, message="ready")
        yield procs


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for(predicate, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
