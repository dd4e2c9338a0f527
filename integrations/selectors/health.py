"""An integration's status at a glance: the last and next run of each kind, staleness, failures
in a row, and what awaits an admin's review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from catalog.models import Course
from integrations.models import AuditEntry, Integration, SyncRun
from integrations.selectors.integrations import run_active_for_integration

DAILY_TASKS = {
    SyncRun.Kind.CONTENT: "integrations.tasks.sync_all_content",
    SyncRun.Kind.STATS: "integrations.tasks.sync_all_stats",
}


@dataclass(frozen=True)
class KindHealth:
    last_run: SyncRun | None
    last_success_at: datetime | None
    next_run_at: datetime | None
    stale: bool
    running: SyncRun | None = None  # queued or running now
    # Content only: published courses no longer on Udemy whose archival awaits an admin, and
    # new items held (not shown to learners) until an admin publishes them.
    cleanup_pending: int = 0
    held_new: int = 0

    @property
    def review_pending(self) -> bool:
        return bool(self.cleanup_pending or self.held_new)


@dataclass(frozen=True)
class IntegrationHealth:
    content: KindHealth
    stats: KindHealth
    consecutive_failures: int
    deactivated: AuditEntry | None = None  # who turned it off, when (an inactive one only)

    @property
    def stale(self) -> bool:
        return self.content.stale or self.stats.stale


def next_scheduled_run(
    *, kind: str, now: datetime | None = None, integration: Integration | None = None
) -> datetime | None:
    """When the beat schedule next runs the daily `kind` sync (the earliest of its enabled
    entries; None when none is enabled). For an `integration` with times of its own
    (`services.sync_times`), those replace the shared entries of their slots."""
    import json

    from django_celery_beat.models import PeriodicTask

    from integrations.selectors.sync_times import next_own_run, slot_of

    now = now or timezone.now()
    own = list(integration.sync_times.all()) if integration is not None else []
    own_slots = {row.slot for row in own}
    times = []
    tasks = PeriodicTask.objects.filter(task=DAILY_TASKS[kind], enabled=True, crontab__isnull=False)
    for task in tasks.select_related("crontab"):
        beat_slot = json.loads(task.kwargs or "{}").get("slot", "")
        if slot_of(kind, beat_slot) in own_slots:
            continue
        zone = ZoneInfo(str(task.crontab.timezone))
        local = now.astimezone(zone)
        schedule = task.crontab.schedule
        schedule.nowfun = lambda local=local: local  # from `now`, not the clock
        # A duration: added in UTC (wall-clock arithmetic would be an hour off across DST).
        moment = now.astimezone(UTC) + schedule.remaining_estimate(local)
        times.append((moment + timedelta(milliseconds=500)).replace(microsecond=0))
    if (own_next := next_own_run(own, kind, now)) is not None:
        times.append(own_next)
    return min(times, default=None)


def consecutive_failures(*, integration: Integration, limit: int = 100) -> int:
    """How many of the latest finished runs (skipped ones aside) failed or timed out in a row."""
    statuses = (
        SyncRun.objects.filter(integration=integration, status__in=SyncRun.FINISHED)
        .exclude(status=SyncRun.Status.SKIPPED)
        .order_by("-finished_at", "-id")
        .values_list("status", flat=True)[:limit]
    )
    count = 0
    for status in statuses:
        if status not in (SyncRun.Status.FAILED, SyncRun.Status.TIMED_OUT):
            break
        count += 1
    return count


def _review_counts(integration: Integration) -> dict[str, int]:
    """What awaits the admin's decision (`services.content_review`)."""
    return {
        "cleanup_pending": Course.missing_for(integration.pk).count(),
        "held_new": Course.held_for(integration.pk).count(),
    }


def integration_health(
    *, integration: Integration, now: datetime | None = None
) -> IntegrationHealth:
    """Status at a glance: the last run of each kind, the next scheduled one, staleness."""
    now = now or timezone.now()

    def of_kind(kind: str) -> KindHealth:
        last = (
            SyncRun.objects.filter(integration=integration, kind=kind, status__in=SyncRun.FINISHED)
            .exclude(status=SyncRun.Status.SKIPPED)
            .order_by("-finished_at", "-id")
            .first()
        )
        return KindHealth(
            last_run=last,
            last_success_at=getattr(integration, Integration.LAST_RUN_FIELDS[kind]),
            next_run_at=next_scheduled_run(kind=kind, now=now, integration=integration)
            if integration.accepts_runs
            else None,
            stale=integration.is_stale(kind, now),
            running=run_active_for_integration(integration=integration, kind=kind),
            **(_review_counts(integration) if kind == "content" else {}),
        )

    return IntegrationHealth(
        content=of_kind(SyncRun.Kind.CONTENT),
        stats=of_kind(SyncRun.Kind.STATS),
        consecutive_failures=consecutive_failures(integration=integration),
        deactivated=AuditEntry.objects.filter(integration=integration, action="deactivate")
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
        if integration.status == Integration.Status.INACTIVE
        else None,
    )
