"""Housekeeping tasks."""

from __future__ import annotations

from celery import shared_task

from integrations.core.reaper import runs_reap
from integrations.models import PlatformRun, SyncRun


@shared_task(name="integrations.tasks.reap_stuck_runs")
def reap_stuck_runs() -> int:
    """Every few minutes (beat): close the runs whose worker is gone (see `core.reaper`)."""
    return len(runs_reap(SyncRun)) + len(runs_reap(PlatformRun))
