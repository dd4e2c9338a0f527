"""Default beat schedules, created once in django-celery-beat's tables (then editable in admin)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

# (periodic task name, task, setting holding "HH:MM")
DEFAULT_SCHEDULES = [
    ("Udemy content sync (daily)", "integrations.tasks.sync_all_content", "SYNC_CONTENT_AT"),
    ("Udemy statistics sync (daily)", "integrations.tasks.sync_all_stats", "SYNC_STATS_AT"),
    (
        "Platform directory import (daily)",
        "integrations.platform_tasks.import_all_directories",
        "SYNC_DIRECTORY_AT",
    ),
]
# (periodic task name, task, every N seconds)
INTERVAL_SCHEDULES = [
    ("Close runs whose worker is gone", "integrations.tasks.reap_stuck_runs", 300),
    ("Alerts: stale data and unsent e-mails", "integrations.tasks.check_alerts", 3600),
]
# Defaults of settings that may be absent (the platform import's time is optional).
SCHEDULE_DEFAULTS = {"SYNC_DIRECTORY_AT": "07:15"}


def ensure_default_schedules(**kwargs: Any) -> None:
    """post_migrate hook: create missing schedules; never overwrite an admin's edit."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for name, task, seconds in INTERVAL_SCHEDULES:
        if not PeriodicTask.objects.filter(name=name).exists():
            every, _ = IntervalSchedule.objects.get_or_create(
                every=seconds, period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.create(name=name, task=task, interval=every)

    for name, task, setting_name in DEFAULT_SCHEDULES:
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
        PeriodicTask.objects.create(name=name, task=task, crontab=crontab)
