"""Shared helpers of the benchmark children: environment, fresh database, sandbox process, timing.

Nothing here is product code: the harness drives the product exactly as a worker does
(`sync_execute(run_id=...)`), against a Udemy sandbox served by a separate process on loopback.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
ORG_NAME, ORG_ID = "bench", "4242"


# --------------------------------------------------------------------------- environment


def child_env(
    *, backend: str, var_dir: Path, db_name: str, pg_url: str, broker: str = ""
) -> dict[str, str]:
    """The environment of a benchmark child: its own database and var dir, production-like
    settings (DEBUG off, quiet logs), no broker unless the scenario needs a real one."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "lmsbridge.settings"
    env["DJANGO_ENV"] = "development"
    env["DEBUG"] = "false"
    env["LOG_LEVEL"] = "WARNING"
    env["LMSBRIDGE_VAR_DIR"] = str(var_dir)
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{var_dir / f'bench-{db_name}.sqlite3'}"
    else:
        env["DATABASE_URL"] = pg_url
    if broker:
        env["CELERY_BROKER_URL"] = broker
        env["CELERY_RESULT_BACKEND"] = broker
    else:
        env["CELERY_BROKER_URL"] = "memory://"
        env["CELERY_RESULT_BACKEND"] = "cache+memory://"
    env.pop("REDIS_URL", None)
    return env


def pg_database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def pg_recreate(url: str) -> None:
    """Drop and create the benchmark's PostgreSQL database (only one whose name says bench)."""
    import psycopg

    name = pg_database_name(url)
    if "bench" not in name or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to recreate database {name!r}: its name must contain 'bench'")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_reachable(url: str) -> bool:
    try:
        import psycopg

        admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
        with psycopg.connect(admin, connect_timeout=3):
            return True
    except Exception:
        return False


def setup_django(*, fresh: bool = True) -> None:
    """django.setup() on the database named by DATABASE_URL, recreated empty, then migrated."""
    sys.path.insert(0, str(ROOT))
    url = os.environ["DATABASE_URL"]
    if fresh:
        if url.startswith("sqlite:"):
            path = Path(url.removeprefix("sqlite://"))
            for suffix in ("", "-wal", "-shm", "-journal"):
                with suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").unlink()
        else:
            pg_recreate(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def db_description() -> dict[str, str]:
    from django.db import connection

    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
        else:
            cursor.execute("show server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
    return {"vendor": vendor, "version": version}


# --------------------------------------------------------------------------- sandbox process


@dataclass
class Sandbox:
    """A `UdemySandbox` served by its own process (`bench/sandbox_server.py`) on loopback, so
    that the fake Udemy never competes with the sync for the GIL, as the real one would not."""

    proc: subprocess.Popen
    port: int
    info: dict

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api-2.0/organizations/{ORG_ID}/"

    def credentials(self):
        from integrations.providers.udemy.client import UdemyCredentials

        return UdemyCredentials(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            organization_name=ORG_NAME,
            organization_id=ORG_ID,
            api_base_url=self.api_base_url,
        )

    def _session(self):
        import requests

        session = requests.Session()
        session.trust_env = False  # loopback: never through an environment proxy
        return session

    def scenario(self, **changes: Any) -> dict:
        with self._session() as session:
            reply = session.post(f"{self.url}/_sandbox/scenario", json=changes, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def state(self) -> dict:
        with self._session() as session:
            reply = session.get(f"{self.url}/_sandbox/state", timeout=30)
        reply.raise_for_status()
        return reply.json()

    def set_latency(self, seconds: float) -> None:
        self.scenario(latency=seconds)

    def reset_log(self) -> None:
        self.scenario(reset_log=True)

    def requests(self) -> int:
        return int(self.state()["requests"])

    def learner_emails(self) -> list[str]:
        return json.loads(Path(self.info["learner_emails_path"]).read_text())

    def stop(self) -> None:
        stop_process(self.proc)


@contextmanager
def sandbox_process(
    *,
    var_dir: Path,
    courses: int,
    paths: int = 0,
    learners: int = 0,
    activity_per_learner: int = 5,
    latency: float = 0.0,
    seed: int = 1,
) -> Iterator[Sandbox]:
    tag = f"{os.getpid()}-{courses}-{learners}"
    emails = var_dir / f"sandbox-learners-{tag}.json"
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "sandbox_server.py"),
        f"--courses={courses}",
        f"--paths={paths}",
        f"--learners={learners}",
        f"--activity-per-learner={activity_per_learner}",
        f"--latency={latency}",
        f"--seed={seed}",
        f"--emails-out={emails}",
    ]
    proc = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        cmd,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = _read_line(proc, timeout=300)
        info = json.loads(line)
        yield Sandbox(proc=proc, port=int(info["port"]), info=info)
    finally:
        stop_process(proc)
        with suppress(FileNotFoundError):
            emails.unlink()


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise RuntimeError("the sandbox process did not start in time")
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"the sandbox process exited (code {proc.poll()})")
    return line


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop one process we started (its own session/group), by its id only."""
    if proc.poll() is not None:
        return
    if proc.stdin:
        with suppress(OSError):
            proc.stdin.close()
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- product objects


def make_owner():
    from django.contrib.auth import get_user_model

    from catalog.models import Learner

    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username="bench-owner", defaults={"email": "bench-owner@bench.example", "is_staff": True}
    )
    if created:
        Learner.objects.create(email=user.email, user=user, language="en")
    return user


def make_integration(sandbox: Sandbox, label: str, *, tags: bool = True, paths: bool = True):
    from catalog.models import Group, Learner, Membership
    from integrations.models import Integration

    group = Group.objects.create(name=f"Bench {label}", slug=f"bench-{label}")
    # A statistics sync matches only the learners who see the group's catalog: every learner
    # the bench created is a member.
    Membership.objects.bulk_create(
        (Membership(group=group, learner_id=pk)
         for pk in Learner.objects.values_list("pk", flat=True).iterator()),
        batch_size=5000,
    )  # fmt: skip
    return Integration.objects.create(
        group=group,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        organization_name=ORG_NAME,
        organization_id=ORG_ID,
        api_base_url=sandbox.api_base_url,
        sync_tags=tags,
        sync_learning_paths=paths,
        status=Integration.Status.ACTIVE,
        owner=make_owner(),
    )


def run_counts(run) -> dict[str, int]:
    names = ("fetched", "created", "updated", "unchanged", "archived", "restored", "failed")
    extra = ("unmatched_learners", "anonymized", "pending")
    return {n: getattr(run, n) for n in (*names, *extra) if getattr(run, n)}


# --------------------------------------------------------------------------- measuring


def _batched():
    """The boundaries between the statements of a batch (`core.transactions.BATCH_SEPARATOR`
    before the next statement's first word)."""
    from integrations.core.transactions import BATCH_SEPARATOR

    return re.compile(re.escape(BATCH_SEPARATOR) + r"(?=(?:INSERT|UPDATE|DELETE|SELECT) )")


@contextmanager
def captured_queries() -> Iterator[Any]:
    """Every statement sent inside, on the default connection of every thread: this one's and
    the ones a thread opens meanwhile (a sync's writer thread commits its pages on its own
    connection). `ctx.captured_queries`: [{"sql", "time"}], as Django's
    `CaptureQueriesContext` gives them."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    ctx = SimpleNamespace(captured_queries=[])
    batched = _batched()

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            # A page's batched writes (`core.transactions.batched_transaction`) are one round
            # trip and as many statements: each is counted, the first one marked as the trip.
            parts = batched.split(sql) if isinstance(sql, str) else [sql]
            spent = (time.perf_counter() - started) / len(parts)
            ctx.captured_queries.extend(  # list.extend: safe from any thread
                {"sql": part, "time": f"{spent:.3f}", "round_trip": n == 0}
                for n, part in enumerate(parts)
            )

    def on_connect(sender, connection, **kwargs):
        if record not in connection.execute_wrappers:
            connection.execute_wrappers.append(record)

    connection_created.connect(on_connect, weak=False)
    connection.execute_wrappers.append(record)
    try:
        yield ctx
    finally:
        connection_created.disconnect(on_connect)
        connection.execute_wrappers.remove(record)


def statement_kinds(queries: list[dict]) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    for query in queries:
        word = query["sql"].lstrip().split(None, 1)[0].upper() if query["sql"].strip() else "?"
        kinds[word] += 1
    return dict(sorted(kinds.items()))


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    index = max(0, -(-95 * len(ordered) // 100) - 1)  # nearest rank
    return ordered[index]


def proc_status(field: str) -> int:
    """VmRSS / VmHWM of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Reset VmHWM so that the next reading is the peak of what follows (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def log(message: str) -> None:
    print(
        f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}",
        file=sys.stderr,
        flush=True,
    )
