"""A real worker process executes tasks through the configured broker (never eager mode)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from lmsbridge.celery import app, ping
from tests.celery_worker import celery_process, wait_for

pytestmark = pytest.mark.celery_worker


def test_a_real_worker_runs_a_task_through_the_configured_broker(
    celery_worker_process, worker_queue
):
    assert not app.conf.task_always_eager
    if os.environ.get("REDIS_URL"):
        assert settings.CELERY_BROKER_URL.startswith("redis://")
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"
    result = ping.apply_async(args=[f"hello-{worker_queue}"], queue=worker_queue)
    assert result.get(timeout=60) == f"hello-{worker_queue}"
    # The worker that ran it is the subprocess, not this process (its log says so).
    log = celery_worker_process.log_path
    wait_for(lambda: "succeeded" in log.read_text(), timeout=10, message="worker log")
    assert f"lmsbridge.ping[{result.id}] succeeded" in log.read_text()


@pytest.mark.django_db(transaction=True)
def test_beat_enqueues_a_scheduled_task_that_the_worker_runs(
    celery_worker_process, worker_queue, tmp_path
):
    """Beat (database scheduler) → broker → worker, all real processes."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name=f"smoke {worker_queue}",
        task="lmsbridge.ping",
        interval=every_second,
        args=f'["beat-{worker_queue}"]',
        queue=worker_queue,
    )
    log = celery_worker_process.log_path
    with celery_process(
        "beat",
        "-l",
        "info",
        "--max-interval",
        "1",
        "-s",
        str(tmp_path / "beat-schedule"),
        log=tmp_path / "beat.log",
    ):
        wait_for(
            lambda: (
                f"'beat-{worker_queue}'" in log.read_text() or "succeeded in" in log.read_text()
            ),
            timeout=60,
            message="a beat-scheduled ping executed by the worker",
        )
    assert "lmsbridge.ping" in log.read_text()
    assert "Sending due task" in (tmp_path / "beat.log").read_text()
