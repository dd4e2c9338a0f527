"""Celery tasks of the platform connectors: thin wrappers (ids in, one service call).

Imported by `integrations/tasks/__init__.py`, so that autodiscovery registers them. Never
pass secrets as arguments.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from integrations.services.platforms import (
    RUN_PLATFORM_TASK,
    platform_import_scheduled,
    platform_run_execute,
)
from integrations.tasks.common import RUN_TASK_MAX_RETRIES, execute_or_retry

__all__ = ["import_all_directories", "run_platform"]


@shared_task(bind=True, name=RUN_PLATFORM_TASK, max_retries=RUN_TASK_MAX_RETRIES)
def run_platform(self, run_id: int) -> str:
    """Execute one directory import or push (dry runs never get here: they run inline)."""
    return execute_or_retry(self, platform_run_execute, run_id)


@shared_task(name="integrations.platform_tasks.import_all_directories")
def import_all_directories() -> int:
    """Daily (07:15 Europe/Paris, before the statistics sync): import every tested connection."""
    return len(platform_import_scheduled(today=timezone.localdate()))
