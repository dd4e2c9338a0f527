"""An integration's daily times, set from its settings page: each slot (content, statistics,
evening statistics) at the site's time, or at a time of its own.

A time of its own is a beat entry of its own (django-celery-beat's `PeriodicTask` with a crontab in
`SYNC_SCHEDULE_TIMEZONE`, so 07:30 stays 07:30 local across daylight saving time), written in the
same transaction as the time: the database scheduler sees the change at its next tick, without a
restart. The shared daily entries (`integrations.schedules`) then leave that integration out of the
slot, so it still runs once a day per slot.
"""

from __future__ import annotations

import json
from datetime import time
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from integrations.core.audit import audit_record
from integrations.models import AuditEntry, Integration, SyncTime
from integrations.selectors.sync_times import OWN_TASK, SLOTS, site_time, task_name, zone_name


def sync_times_set(
    integration: Integration, times: dict[str, time | None], *, actor: Any
) -> list[str]:
    """Store the integration's times (None: back to the site's), its beat entries with them,
    and audit what changed; returns the slots that changed."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    changed = []
    with transaction.atomic():
        current = {t.slot: t for t in SyncTime.objects.select_for_update().filter(
            integration=integration
        )}  # fmt: skip
        for slot, at in times.items():
            row = current.get(slot)
            at = at.replace(second=0, microsecond=0) if at is not None else None
            own = at is not None and at != site_time(slot)
            name = task_name(integration, slot)
            if (row.at if row else None) != (at if own else None):
                changed.append(slot)
                before = row.at if row else site_time(slot)
                if _moved_past(before, at or site_time(slot)):
                    transaction.on_commit(partial(_run_today, integration.pk, slot))
            if not own:
                SyncTime.objects.filter(integration=integration, slot=slot).delete()
                PeriodicTask.objects.filter(name=name).delete()
                continue
            # The entry is written again even when the time is the same: one removed or
            # disabled in the admin comes back with the admin's next save.
            SyncTime.objects.update_or_create(
                integration=integration, slot=slot, defaults={"at": at}
            )
            crontab, _created = CrontabSchedule.objects.get_or_create(
                minute=str(at.minute),
                hour=str(at.hour),
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=zone_name(),
            )
            kind, beat_slot, _setting = SLOTS[slot]
            PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": OWN_TASK,
                    "crontab": crontab,
                    "interval": None,
                    "enabled": True,
                    "kwargs": json.dumps(
                        {"integration_id": integration.pk, "kind": kind, "slot": beat_slot}
                    ),
                },
            )
        if changed:
            words = ", ".join(
                f"{SyncTime.Slot(slot).label}: {_hhmm(times[slot], slot)}" for slot in changed
            )
            audit_record(
                AuditEntry,
                integration=integration,
                actor=actor,
                action="schedule",
                detail=f"daily times ({zone_name()}): {words}",
            )
    return changed


def _hhmm(at: time | None, slot: str) -> str:
    if at is None or at == site_time(slot):
        return f"{site_time(slot):%H:%M} (the site's time)"
    return f"{at:%H:%M}"


def sync_times_forget(sender: Any, instance: Integration, **kwargs: Any) -> None:
    """pre_delete of an integration: its own beat entries go with it (their rows cascade)."""
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(
        name__in=[task_name(instance, slot) for slot in SLOTS], task=OWN_TASK
    ).delete()


def _moved_past(before: time, after: time) -> bool:
    """Today's run of a slot would be lost: its time moves from still ahead today to already
    passed (the old entry no longer fires, the new one fired before it existed)."""
    now = timezone.now().astimezone(ZoneInfo(zone_name())).time()
    return after <= now < before


def _run_today(integration_id: int, slot: str) -> None:
    """Today's run of a slot whose time was moved to one already passed: requested now (the
    once-a-day guard drops it if it already ran)."""
    from integrations.services.sync import sync_request_scheduled

    kind, beat_slot, _setting = SLOTS[slot]
    sync_request_scheduled(
        kind=kind,
        today=timezone.localdate(),  # as the daily tasks date their runs
        slot=beat_slot,
        integration_id=integration_id,
    )
