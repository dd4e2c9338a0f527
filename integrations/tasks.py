"""Celery tasks: thin wrappers (ids in, one service call). Never pass secrets as arguments."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .models import SyncRun
from .services.sync import RescheduleSync, sync_execute, sync_request_scheduled


@shared_task(bind=True, name="integrations.tasks.run_sync", max_retries=50)
def run_sync(self, run_id: int) -> str:
    try:
        run = sync_execute(run_id=run_id)
    except RescheduleSync as exc:
        # Long Retry-After or a content sync still running: free the worker, come back later.
        raise self.retry(countdown=max(1, int(exc.countdown)), exc=exc) from None
    return run.status


@shared_task(name="integrations.tasks.sync_all_content")
def sync_all_content() -> int:
    return len(sync_request_scheduled(kind=SyncRun.Kind.CONTENT, today=timezone.localdate()))


@shared_task(name="integrations.tasks.sync_all_stats")
def sync_all_stats() -> int:
    return len(sync_request_scheduled(kind=SyncRun.Kind.STATS, today=timezone.localdate()))


from .platform_tasks import *  # noqa: E402,F403
