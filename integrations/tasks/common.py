"""What every run task does: execute the run; a `Reschedule` (a long `Retry-After`, or a run that
waits for another) becomes a Celery retry, which frees the worker until then.

A run never waits forever: a reschedule that would resume it later than `RUN_MAX_WAIT` after its
creation, or one more than the task's retry budget, closes it as failed with the reason. A run
whose work goes on elsewhere meanwhile (the helpers of a split report moved since its last look)
is working, not waiting: it is sent again as a new message, outside both limits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from celery import Task
from django.conf import settings
from django.utils import timezone

from integrations.core.execute import Reschedule, run_enqueue
from integrations.core.models import RunBase
from integrations.core.netutil import human_wait
from integrations.core.runs import run_give_up, run_wait

RUN_TASK_MAX_RETRIES = 200  # reschedules of one run (e.g. 60 s waits for a 3-hour content sync)


def execute_or_retry(task: Task, execute: Callable[..., RunBase], run_id: int) -> str:
    try:
        return execute(run_id=run_id).status
    except Reschedule as exc:
        run = exc.run_model.objects.get(pk=run_id)
        if problem := _wait_refused(task, run, exc):
            run_give_up(run=run, message=problem)
            return run.status
        run_wait(run=run, seconds=exc.countdown, reason=exc.reason)
        # A used time slice goes straight to the back of the queue (no countdown: no ETA that
        # the same worker would hold on to).
        countdown = 0 if exc.time_slice else max(1, int(exc.countdown))
        if exc.working:
            # Its helpers moved since the last look: a new message, whose retry budget counts
            # only the waits in a row without progress.
            run_enqueue(task_name=task.name, run=run, countdown=countdown)
            return run.status
        raise task.retry(countdown=countdown, exc=exc) from None


def _wait_refused(task: Task, run: RunBase, exc: Reschedule) -> str:
    if exc.working:
        return ""
    limit = timedelta(seconds=settings.RUN_MAX_WAIT)
    too_late = timezone.now() + timedelta(seconds=exc.countdown) > run.created_at + limit
    if too_late and not exc.time_slice:  # a run that yields its worker is working, not waiting
        wait = human_wait(exc.countdown, beyond=settings.RUN_MAX_WAIT)
        return (
            f"{exc.reason.rstrip('.')}: waiting {wait} would take the run past RUN_MAX_WAIT "
            f"({human_wait(settings.RUN_MAX_WAIT)} after it was requested). The run stops here; "
            "the next run starts again."
        )
    if task.request.retries >= task.max_retries:
        return (
            f"{exc.reason}: still waiting after {task.max_retries} reschedules. The run stops "
            "here; the next run starts again."
        )
    return ""
