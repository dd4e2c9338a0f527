"""What every run task does: execute the run; a `Reschedule` (a long `Retry-After`, or a run that
waits for another) becomes a Celery retry, which frees the worker until then."""

from __future__ import annotations

from collections.abc import Callable

from celery import Task

from integrations.core.execute import Reschedule
from integrations.core.models import RunBase


def execute_or_retry(task: Task, execute: Callable[..., RunBase], run_id: int) -> str:
    try:
        return execute(run_id=run_id).status
    except Reschedule as exc:
        raise task.retry(countdown=max(1, int(exc.countdown)), exc=exc) from None
