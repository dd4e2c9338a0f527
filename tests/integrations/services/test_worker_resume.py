"""Promise: a worker killed mid-sync loses no committed page; the redelivered task resumes.

A real worker process runs the sync against the sandbox; its pool process is SIGKILLed after a few
pages. `acks_late` + `reject_on_worker_lost` put the message back, a fresh pool process picks it
up, and the run resumes after its checkpoint: no duplicate page, no gap.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from catalog.models import Course
from integrations.models import SyncPage, SyncRun
from integrations.tasks import run_sync
from tests.celery_worker import celery_process, wait_for, worker_args

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_from_the_last_committed_page(
    make_udemy_sandbox, make_integration, tmp_path, worker_queue
):
    sandbox = make_udemy_sandbox(courses=1200, paths=0, learners=1)
    sandbox.latency = 0.25
    integration = make_integration(sandbox)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    log = tmp_path / "worker.log"
    with celery_process(*worker_args(worker_queue, named=False), log=log) as worker:
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        run_sync.apply_async(args=[run.pk], queue=worker_queue)

        def committed_pages() -> int:
            run.refresh_from_db()
            return int(run.checkpoint.get("courses", 0))

        wait_for(lambda: committed_pages() >= 3, timeout=60, message="3 committed pages")
        pool = _children(worker.pid)
        assert pool, "the worker has a pool process"
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        killed_at = committed_pages()

        def finished() -> bool:
            run.refresh_from_db()
            return run.status in SyncRun.FINISHED

        wait_for(finished, timeout=120, message="the redelivered run to finish")
    assert run.status == SyncRun.Status.SUCCEEDED, (run.error_summary, log.read_text()[-3000:])
    assert Course.objects.filter(integration=integration).count() == 1200
    pages = sorted(SyncPage.objects.filter(run=run).values_list("number", flat=True))
    assert pages == list(range(1, 13))  # no gap, no duplicate
    assert run.created == 1200  # each item counted once
    page_one = [r for r in sandbox.request_log if parse_qs(r["query"]).get("page", ["1"]) == ["1"]]
    assert killed_at < 12
    assert len(page_one) == 1, "resumed from the checkpoint, not from the first page"


@pytest.mark.django_db(transaction=True)
def test_after_a_whole_worker_is_killed_the_next_trigger_closes_the_run_and_runs(
    make_udemy_sandbox, make_integration, tmp_path, worker_queue, monkeypatch
):
    """SIGKILL of the worker's main process and its pool: the message may be lost (the file
    broker) or held until the visibility timeout (Redis). The run would stay "running" and every
    later trigger be skipped; instead the next trigger closes it (worker lost) and runs."""
    from integrations.services.sync import sync_request

    sandbox = make_udemy_sandbox(courses=1200, paths=0, learners=1)
    sandbox.latency = 0.25
    integration = make_integration(sandbox)
    send = run_sync.apply_async
    monkeypatch.setattr(
        run_sync, "apply_async", lambda *a, **kw: send(*a, **kw, queue=worker_queue)
    )
    worker_args = ("worker", "-Q", worker_queue, "--concurrency", "1", "--without-mingle",
                   "--without-gossip", "-l", "info")  # fmt: skip

    with celery_process(*worker_args, log=tmp_path / "first.log") as worker:
        wait_for(lambda: "ready" in (tmp_path / "first.log").read_text(), message="worker ready")
        first = sync_request(integration=integration, kind="content", trigger="manual")

        def committed() -> int:
            first.refresh_from_db()
            return int(first.checkpoint.get("courses", 0))

        wait_for(lambda: committed() >= 2, timeout=60, message="2 committed pages")
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool at once
        worker.wait(timeout=10)
    first.refresh_from_db()
    assert first.status == SyncRun.Status.RUNNING  # what used to stay forever

    second = sync_request(integration=integration, kind="content", trigger="manual")
    first.refresh_from_db()
    assert first.status == SyncRun.Status.FAILED
    assert first.errors.get().category == "worker_lost"
    assert second.status == SyncRun.Status.QUEUED  # not "skipped: already running"

    log = tmp_path / "second.log"
    with celery_process(*worker_args, log=log):

        def finished() -> bool:
            second.refresh_from_db()
            return second.status in SyncRun.FINISHED

        wait_for(finished, timeout=120, message="the new run to finish")
    assert second.status == SyncRun.Status.SUCCEEDED, (
        second.error_summary,
        log.read_text()[-2000:],
    )
    assert Course.objects.filter(integration=integration).count() == 1200


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_enforces_the_soft_time_limit(
    make_udemy_sandbox, make_integration, tmp_path, worker_queue, monkeypatch
):
    """The time limits of the settings are real in a worker started as docs/operations.md
    says: a sync slower than the *worker's* CELERY_TASK_SOFT_TIME_LIMIT is closed as timed out,
    its pages kept, whatever the limits of the process that requested it (they used to travel
    in the message and win)."""
    from integrations.services.sync import sync_request

    sandbox = make_udemy_sandbox(courses=3000, paths=0, learners=1)
    sandbox.latency = 0.5  # 30 pages: 15 s at least
    integration = make_integration(sandbox)
    send = run_sync.apply_async
    monkeypatch.setattr(
        run_sync, "apply_async", lambda *a, **kw: send(*a, **kw, queue=worker_queue)
    )
    log = tmp_path / "worker.log"
    # One page at a time: the sync must be known to outlast the soft limit.
    limits = {
        "CELERY_TASK_SOFT_TIME_LIMIT": "4",
        "CELERY_TASK_TIME_LIMIT": "30",
        "UDEMY_PAGE_CONCURRENCY": "1",
    }
    with celery_process(
        "worker", "-Q", worker_queue, "--concurrency", "1", "--without-mingle",
        "--without-gossip", "-l", "info", log=log, **limits,
    ):  # fmt: skip
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        run = sync_request(integration=integration, kind="content", trigger="manual")

        def finished() -> bool:
            run.refresh_from_db()
            return run.status in SyncRun.FINISHED

        wait_for(finished, timeout=60, message="the run to end")
    errors = list(run.errors.values_list("category", "message"))
    assert run.status == SyncRun.Status.TIMED_OUT, (run.status, errors, log.read_text()[-6000:])
    assert 0 < run.checkpoint.get("courses", 0) < 30


@pytest.mark.django_db(transaction=True)
def test_a_long_sync_yields_the_worker_to_a_short_one(
    make_udemy_sandbox, make_integration, tmp_path, worker_queue, monkeypatch
):
    """One worker slot, a long sync of group A then a short one of group B: with RUN_TIME_SLICE
    the long one goes back to the queue after its slice, B finishes first, and A resumes from
    its checkpoint (every page once)."""
    from integrations.services.sync import sync_request

    slow = make_udemy_sandbox(courses=2000, paths=0, learners=1)
    slow.latency = 0.3  # 20 pages: 6 s at least
    quick = make_udemy_sandbox(courses=50, paths=0, learners=1)
    long_integration, short_integration = make_integration(slow), make_integration(quick)
    send = run_sync.apply_async
    monkeypatch.setattr(
        run_sync, "apply_async", lambda *a, **kw: send(*a, **kw, queue=worker_queue)
    )
    log = tmp_path / "worker.log"
    with celery_process(
        "worker", "-Q", worker_queue, "--concurrency", "1", "--without-mingle",
        "--without-gossip", "-l", "info", log=log, RUN_TIME_SLICE="2",
        UDEMY_PAGE_CONCURRENCY="1",  # one page at a time: the long sync outlasts its slice
    ):  # fmt: skip
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        long_run = sync_request(integration=long_integration, kind="content", trigger="manual")

        def started() -> bool:
            long_run.refresh_from_db()
            return long_run.checkpoint.get("courses", 0) >= 1

        wait_for(started, timeout=30, message="the long sync to start")
        short_run = sync_request(integration=short_integration, kind="content", trigger="manual")

        def both_finished() -> bool:
            long_run.refresh_from_db()
            short_run.refresh_from_db()
            return long_run.status in SyncRun.FINISHED and short_run.status in SyncRun.FINISHED

        wait_for(both_finished, timeout=120, message="both syncs to finish")
    assert short_run.status == long_run.status == SyncRun.Status.SUCCEEDED, log.read_text()[-2000:]
    assert short_run.finished_at < long_run.finished_at
    assert long_run.created == 2000
    pages = sorted(SyncPage.objects.filter(run=long_run).values_list("number", flat=True))
    assert pages == list(range(1, 21))
    page_one = [r for r in slow.request_log if parse_qs(r["query"]).get("page", ["1"]) == ["1"]]
    assert len(page_one) == 1, "each slice resumed from the checkpoint"
