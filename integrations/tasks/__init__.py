"""Celery tasks (found by autodiscovery of `integrations.tasks`): thin wrappers, ids in, one
service call, never a secret as an argument. Task names are stable strings: beat entries and
queued messages refer to them."""

from integrations.tasks.alerts import check_alerts, send_alerts
from integrations.tasks.maintenance import reap_stuck_runs
from integrations.tasks.platforms import import_all_directories, run_platform
from integrations.tasks.sync import run_sync, run_sync_range, sync_all_content, sync_all_stats
from integrations.tasks.xapi import xapi_apply, xapi_retry_waiting

__all__ = [
    "check_alerts",
    "import_all_directories",
    "reap_stuck_runs",
    "run_platform",
    "run_sync",
    "run_sync_range",
    "send_alerts",
    "sync_all_content",
    "sync_all_stats",
    "xapi_apply",
    "xapi_retry_waiting",
]
