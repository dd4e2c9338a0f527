"""Prometheus metrics of the connector core: runs, their items and the upstream requests.

The metric objects live here, in the core, so that the executor, the run bookkeeping and the
HTTP client record what happens where it happens; the `/metrics` view (`lmsbridge.metrics`)
only reads them. Every label is bounded: a provider or platform kind (a registry key), a run
kind, trigger or status (model choices), a vendor (a client class attribute), a status class.
Never an e-mail, a course id, a URL or a message.

Several processes (gunicorn workers, Celery pool processes) increment them, so with
`PROMETHEUS_MULTIPROC_DIR` set (the settings set it: `var/metrics` by default) prometheus-client
runs in its multiprocess mode: each process writes its values to its own memory-mapped files in
that directory and the scrape adds them up. The file names carry `<host>-<pid>`, not the pid
alone: containers sharing the directory (web and worker) have their own pid namespaces, and two
live processes writing one file would corrupt it. The directory is emptied when everything
that writes it is stopped (`manage.py clear_metrics`, a tmpfs volume in docker-compose.yml):
counters of processes that ended stay counted until then, as Prometheus expects of a counter.
Without the variable, the values stay in the process (a test, a shell).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram, values

_HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"


def process_identifier() -> str:
    """Distinct for every process writing the directory at the same time, whatever its host."""
    return f"{_HOST}-{os.getpid()}"


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Chosen before the first metric below is built (prometheus-client reads it then).
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)


def multiprocess_dir() -> str:
    """The directory of the multiprocess files, '' when the values stay in the process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def clear_multiprocess_dir(path: str | os.PathLike[str]) -> int:
    """Empty `path` (created when missing); the number of files removed. Only while no process
    writes it: a live process would go on writing into files nobody reads any more."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    removed = 0
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed += 1
    return removed


# Seconds: a statistics sync of a small group takes a few, a first content sync of a big
# catalog hours (the task time limit is 2 h by default, a waiting run may last 6 h).
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600)
ITEM_OUTCOMES = ("fetched", "created", "updated", "unchanged", "archived", "failed")
RUN_LABELS = ("provider", "kind", "trigger")

RUNS_STARTED = Counter(
    "lmsbridge_runs_started",
    "Runs that started (a resumed run is counted once).",
    RUN_LABELS,
)
RUNS_FINISHED = Counter(
    "lmsbridge_runs_finished",
    "Runs that ended, by final status (skipped included).",
    (*RUN_LABELS, "status"),
)
RUN_DURATION = Histogram(
    "lmsbridge_run_duration_seconds",
    "From a run's start to its end (waits and reschedules included), skipped runs excepted.",
    ("provider", "kind", "status"),
    buckets=DURATION_BUCKETS,
)
RUN_ITEMS = Counter(
    "lmsbridge_run_items",
    "Items of the runs, by outcome (counted as each page or batch commits).",
    ("provider", "kind", "outcome"),
)
UPSTREAM_REQUESTS = Counter(
    "lmsbridge_upstream_requests",
    "Requests to an upstream API, by status class (2xx…5xx; 'error': no answer).",
    ("vendor", "status_class"),
)
UPSTREAM_THROTTLED = Counter(
    "lmsbridge_upstream_throttled",
    "429 (Too Many Requests) answers of an upstream API.",
    ("vendor",),
)
UPSTREAM_WAIT = Counter(
    "lmsbridge_upstream_wait_seconds",
    "Seconds slept because of an upstream: rate_limit (429, Retry-After), retry (5xx, network, "
    "bad body), throttle (a budget running low), poll (an export still running).",
    ("vendor", "reason"),
)
WAIT_REASONS = frozenset({"rate_limit", "retry", "throttle", "poll", "budget", "other"})


# ------------------------------------------------------------------ runs


def run_labels(run: Any) -> dict[str, str]:
    """provider, kind and trigger of `run`, kept on the instance: they never change, and the
    owner may not be loaded any more where the run is counted (`refresh_from_db` drops it)."""
    labels = run.__dict__.get("_metric_labels")
    if labels is None:
        labels = {
            "provider": getattr(run.owner, "connector", "") or "unknown",
            "kind": str(run.kind or "unknown"),
            "trigger": str(getattr(run, "trigger", "") or "unknown"),
        }
        run.__dict__["_metric_labels"] = labels
    return labels


def record_run_started(run: Any) -> None:
    RUNS_STARTED.labels(**run_labels(run)).inc()


def run_finished(run: Any) -> Callable[[], None]:
    """Counting the end of `run` as it is now (status, duration), to call once it is committed
    (`transaction.on_commit`): a rolled-back ending is not counted."""
    labels, status = run_labels(run), str(run.status)
    seconds = None
    if status != "skipped" and run.started_at and run.finished_at:
        seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())

    def record() -> None:
        RUNS_FINISHED.labels(**labels, status=status).inc()
        if seconds is not None:
            RUN_DURATION.labels(labels["provider"], labels["kind"], status).observe(seconds)

    return record


def run_items(run: Any, counts: dict[str, int]) -> Callable[[], None]:
    """Counting items added to `run`'s counters, to call once they are committed."""
    labels = run_labels(run)
    items = {name: counts[name] for name in ITEM_OUTCOMES if counts.get(name)}

    def record() -> None:
        for outcome, value in items.items():
            RUN_ITEMS.labels(labels["provider"], labels["kind"], outcome).inc(value)

    return record


# ------------------------------------------------------------------ upstream requests


def vendor_label(vendor: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", vendor.lower()).strip("_") or "unknown"


def record_response(vendor: str, status: int) -> None:
    status_class = f"{status // 100}xx" if 100 <= status < 600 else "other"
    UPSTREAM_REQUESTS.labels(vendor_label(vendor), status_class).inc()
    if status == 429:
        UPSTREAM_THROTTLED.labels(vendor_label(vendor)).inc()


def record_no_answer(vendor: str) -> None:
    """A request that got no HTTP answer (timeout, refused or cut connection)."""
    UPSTREAM_REQUESTS.labels(vendor_label(vendor), "error").inc()


def record_wait(vendor: str, reason: str, seconds: float) -> None:
    if seconds > 0:
        reason = reason if reason in WAIT_REASONS else "other"
        UPSTREAM_WAIT.labels(vendor_label(vendor), reason).inc(seconds)
