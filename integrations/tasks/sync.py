"""Celery tasks: thin wrappers (ids in, one service call). Never pass secrets as arguments."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from integrations.core.errors import RetryLater
from integrations.models import SyncRun
from integrations.services.stats_split import RUN_RANGE_TASK
from integrations.services.sync import (
    RUN_SYNC_TASK,
    sync_execute,
    sync_range_execute,
    sync_request_scheduled,
)
from integrations.tasks.common import RUN_TASK_MAX_RETRIES, execute_or_retry


@shared_task(bind=True, name=RUN_SYNC_TASK, max_retries=RUN_TASK_MAX_RETRIES)
def run_sync(self, run_id: int) -> str:
    """Execute one content or statistics sync (a statistics sync waits for a running content
    sync of the same integration)."""
    return execute_or_retry(self, sync_execute, run_id)


@shared_task(bind=True, name=RUN_RANGE_TASK, max_retries=RUN_TASK_MAX_RETRIES)
def run_sync_range(self, run_id: int) -> str:
    """Help a split statistics run: work its free page ranges (`services.stats_split`); sent
    again when its time slice is used, later when Udemy asks to wait."""
    try:
        outcome = sync_range_execute(run_id=run_id)
    except RetryLater as exc:
        raise self.retry(countdown=max(1, int(exc.retry_after)), exc=exc) from None
    if outcome == "more":
        raise self.retry(countdown=0)
    return outcome


@shared_task(name="integrations.tasks.sync_all_content")
def sync_all_content() -> int:
    return len(sync_request_scheduled(kind=SyncRun.Kind.CONTENT, today=timezone.localdate()))


@shared_task(name="integrations.tasks.sync_all_stats")
def sync_all_stats(slot: str = "") -> int:
    """The daily statistics runs: the morning one, and the evening one (`slot="evening"`)."""
    return len(
        sync_request_scheduled(kind=SyncRun.Kind.STATS, today=timezone.localdate(), slot=slot)
    )


@shared_task(name="integrations.tasks.sync_integration_daily")
def sync_integration_daily(integration_id: int, kind: str, slot: str = "") -> int:
    """An integration's daily run at a time of its own (`services.sync_times`)."""
    return len(
        sync_request_scheduled(
            kind=kind, today=timezone.localdate(), slot=slot, integration_id=integration_id
        )
    )
