"""Promise (product + Known trap): the daily syncs run "at 07:30 (content) and 07:45 (statistics)
Central European Time", and statistics again at 19:45 — on the wall clock of Paris, across both
DST changes, once per local day.

The beat loop is simulated on the real schedule object beat uses (`PeriodicTask.crontab.schedule`:
django-celery-beat's tz-aware crontab), with time-machine moving the clock: ask `is_due`, fire
when due, sleep what it says (never more than a minute), over five days around each change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
MAX_SLEEP = 60.0  # beat sleeps at most this long between two checks here (finer than real)


def firings(task_name: str, start: datetime, days: int) -> list[datetime]:
    """Every instant a beat process would send `task_name` between `start` and `start + days`."""
    schedule = PeriodicTask.objects.get(name=task_name).crontab.schedule
    now, end, last_run_at, fired = start, start + timedelta(days=days), start, []
    while now < end:
        with time_machine.travel(now, tick=False):
            due, next_check = schedule.is_due(last_run_at)
        if due:
            fired.append(now)
            last_run_at = now
        now += timedelta(seconds=min(max(next_check, 1.0), MAX_SLEEP))
    return fired


@pytest.mark.parametrize(
    ("task_name", "local_time", "change", "utc_before", "utc_after"),
    [
        ("Udemy content sync (daily)", "07:30", date(2026, 3, 29), "06:30", "05:30"),
        ("Udemy content sync (daily)", "07:30", date(2026, 10, 25), "05:30", "06:30"),
        ("Udemy statistics sync (daily)", "07:45", date(2026, 3, 29), "06:45", "05:45"),
        ("Udemy statistics sync (daily)", "07:45", date(2026, 10, 25), "05:45", "06:45"),
        # 360Learning's newer connector page: statistics also at 19:45 CET.
        ("Udemy statistics sync (evening)", "19:45", date(2026, 3, 29), "18:45", "17:45"),
        ("Udemy statistics sync (evening)", "19:45", date(2026, 10, 25), "17:45", "18:45"),
    ],
    ids=[
        "content-spring",
        "content-autumn",
        "stats-spring",
        "stats-autumn",
        "evening-stats-spring",
        "evening-stats-autumn",
    ],
)
def test_a_daily_sync_fires_once_per_local_day_at_its_paris_time_across_dst(
    task_name, local_time, change, utc_before, utc_after
):
    start = datetime(change.year, change.month, change.day, 12, tzinfo=PARIS) - timedelta(days=2)
    fired = firings(task_name, start.astimezone(UTC), days=5)
    local_days = [moment.astimezone(PARIS).date() for moment in fired]
    first = -1 if local_time < "12:00" else -2  # the watch starts at noon, two days before
    assert local_days == [change + timedelta(days=n) for n in range(first, first + 5)], fired
    for moment in fired:
        local = moment.astimezone(PARIS)
        assert local.strftime("%H:%M") == local_time, f"fired at {local.isoformat()}"
        expected_utc = utc_after if local.date() >= change else utc_before
        assert moment.astimezone(UTC).strftime("%H:%M") == expected_utc, moment.isoformat()


def test_the_schedules_are_in_paris_time_not_a_fixed_offset():
    for name in (
        "Udemy content sync (daily)",
        "Udemy statistics sync (daily)",
        "Udemy statistics sync (evening)",
    ):
        schedule = PeriodicTask.objects.get(name=name).crontab.schedule
        assert str(schedule.tz) == "Europe/Paris"
