"""Default beat schedules, created once in django-celery-beat's tables (then editable in admin)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

# The second daily statistics run (360Learning's newer connector page: statistics also at 19:45
# CET). Its runs carry this slot, so the once-a-day guard lets both statistics runs of a day in.
EVENING_SLOT = "evening"

# (periodic task name, task, setting holding "HH:MM", task kwargs)
DEFAULT_SCHEDULES = [
    ("Udemy content sync (daily)", "integrations.tasks.sync_all_content", "SYNC_CONTENT_AT", {}),
    ("Udemy statistics sync (daily)", "integrations.tasks.sync_all_stats", "SYNC_STATS_AT", {}),
    (
        "Udemy statistics sync (evening)",
        "integrations.tasks.sync_all_stats",
        "SYNC_STATS_EVENING_AT",
        {"slot": EVENING_SLOT},
    ),
    (
        "Platform directory import (daily)",
        "integrations.platform_tasks.import_all_directories",
        "SYNC_DIRECTORY_AT",
        {},
    ),
]
# (periodic task name, task, every N seconds)
INTERVAL_SCHEDULES = [
    ("Close runs whose worker is gone", "integrations.tasks.reap_stuck_runs", 300),
    ("Alerts: stale data and unsent e-mails", "integrations.tasks.check_alerts", 3600),
    (
        "xAPI: statements waiting for a learner or course",
        "integrations.tasks.xapi_retry_waiting",
        600,
    ),
]
# Defaults of settings that may be absent (the platform import's time is optional).
SCHEDULE_DEFAULTS = {"SYNC_DIRECTORY_AT": "07:15", "SYNC_STATS_EVENING_AT": "19:45"}


def ensure_default_schedules(**kwargs: Any) -> None:
    """post_migrate hook: create missing schedules; never overwrite an admin's edit."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for name, task, seconds in INTERVAL_SCHEDULES:
        if not PeriodicTask.objects.filter(name=name).exists():
            every, _ = IntervalSchedule.objects.get_or_create(
                every=seconds, period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.create(name=name, task=task, interval=every)

    for name, task, setting_name, kwargs in DEFAULT_SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        hour, minute = getattr(
            settings, setting_name, SCHEDULE_DEFAULTS.get(setting_name, "")
        ).split(":")
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=str(int(minute)),
            hour=str(int(hour)),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.SYNC_SCHEDULE_TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=name, task=task, crontab=crontab, kwargs=json.dumps(kwargs)
        )
