"""Reading an integration's daily times (`models.SyncTime`): each slot's time, its own or the
site's, and when it next starts. Written by `services.sync_times`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from integrations.models import Integration, SyncRun, SyncTime
from integrations.schedules import EVENING_SLOT, SCHEDULE_DEFAULTS

# slot -> (run kind, beat slot, setting holding the site's "HH:MM")
SLOTS: dict[str, tuple[str, str, str]] = {
    SyncTime.Slot.CONTENT: (SyncRun.Kind.CONTENT, "", "SYNC_CONTENT_AT"),
    SyncTime.Slot.STATS: (SyncRun.Kind.STATS, "", "SYNC_STATS_AT"),
    SyncTime.Slot.STATS_EVENING: (SyncRun.Kind.STATS, EVENING_SLOT, "SYNC_STATS_EVENING_AT"),
}


def slot_of(kind: str, beat_slot: str = "") -> str:
    return next(slot for slot, (k, s, _name) in SLOTS.items() if (k, s) == (kind, beat_slot))


def site_time(slot: str) -> time:
    """The site's time of a slot (its setting, "HH:MM")."""
    setting = SLOTS[slot][2]
    text = getattr(settings, setting, SCHEDULE_DEFAULTS.get(setting, "00:00"))
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def zone_name() -> str:
    return settings.SYNC_SCHEDULE_TIMEZONE


@dataclass(frozen=True)
class SlotTime:
    slot: str
    label: str
    at: time
    own: bool  # False: the site's time


def sync_times_of(integration: Integration) -> list[SlotTime]:
    own = {t.slot: t.at for t in SyncTime.objects.filter(integration=integration)}
    return [
        SlotTime(slot, SyncTime.Slot(slot).label, own.get(slot, site_time(slot)), slot in own)
        for slot in SLOTS
    ]


OWN_TASK = "integrations.tasks.sync_integration_daily"


def task_name(integration: Integration | int, slot: str) -> str:
    """The name of an integration's own beat entry for a slot."""
    pk = integration if isinstance(integration, int) else integration.pk
    return f"{SyncTime.Slot(slot).label} of integration {pk} (own time)"


def own_time_integrations(kind: str, beat_slot: str) -> list[int]:
    """Ids of the integrations with a time of their own for this slot whose own beat entry is
    there and enabled: the shared entry skips them (one whose entry was removed or disabled in
    the admin keeps the shared time rather than never running)."""
    from django_celery_beat.models import PeriodicTask

    slot = slot_of(kind, beat_slot)
    ids = list(SyncTime.objects.filter(slot=slot).values_list("integration_id", flat=True))
    names = {task_name(pk, slot): pk for pk in ids}
    enabled = PeriodicTask.objects.filter(name__in=names, task=OWN_TASK, enabled=True)
    return [names[name] for name in enabled.values_list("name", flat=True)]


def next_own_run(rows: list[SyncTime], kind: str, now: datetime | None = None) -> datetime | None:
    """The next start of an integration's own times (`rows`, read once by the caller) of
    `kind`; None without any."""
    now = now or timezone.now()
    zone = ZoneInfo(zone_name())
    moments = [next_local(row.at, zone, now) for row in rows if SLOTS[row.slot][0] == kind]
    return min(moments, default=None)


def next_local(at: time, zone: ZoneInfo, now: datetime) -> datetime:
    """The next moment after `now` at local time `at` in `zone` (a wall-clock time: the same
    local time on both sides of a daylight saving change)."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    # Compared in UTC: two aware times of one zone compare by their wall clock, which in the
    # hour repeated when clocks go back puts a moment already passed in the future.
    if candidate.astimezone(UTC) <= now.astimezone(UTC):
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate
