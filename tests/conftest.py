from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.celery_worker import celery_process, wait_for

pytest_plugins = ["tests.udemy_sandbox_plugin"]


@pytest.fixture
def worker_queue() -> str:
    """A queue name of this test only: a stray message from another run can't reach it."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def celery_worker_process(tmp_path: Path, worker_queue: str) -> Iterator:
    """A real `celery worker` subprocess consuming `worker_queue` on the configured broker."""
    log = tmp_path / "worker.log"
    with celery_process(
        "worker",
        "-Q",
        worker_queue,
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "--without-mingle",
        "--without-gossip",
        "-l",
        "info",
        "-n",
        f"{worker_queue}@%h",
        log=log,
    ) as proc:
        proc.log_path = log
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        yield proc
