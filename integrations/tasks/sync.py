"""Celery tasks: thin wrappers (ids in, one service call). Never pass secrets as arguments."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from integrations.core.execute import Reschedule
from integrations.models import SyncRun
from integrations.services.sync import RUN_SYNC_TASK, sync_execute, sync_request_scheduled


@shared_task(bind=True, name=RUN_SYNC_TASK, max_retries=50)
def run_sync(self, run_id: int) -> str:
    try:
        run = sync_execute(run_id=run_id)
    except Reschedule as exc:
        # Long Retry-After or a content sync still running: free the worker, come back later.
        raise self.retry(countdown=max(1, int(exc.countdown)), exc=exc) from None
    return run.status


@shared_task(name="integrations.tasks.sync_all_content")
def sync_all_content() -> int:
    return len(sync_request_scheduled(kind=SyncRun.Kind.CONTENT, today=timezone.localdate()))


@shared_task(name="integrations.tasks.sync_all_stats")
def sync_all_stats() -> int:
    return len(sync_request_scheduled(kind=SyncRun.Kind.STATS, today=timezone.localdate()))
