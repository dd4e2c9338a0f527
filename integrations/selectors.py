"""Read side of the connector: integrations, runs and errors of a group.

Every function takes the group (already checked by `group_get_administered`) and filters by it,
so a run or an integration of another group is simply not found (404, never 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from integrations.core.registry import PROVIDER_CHOICES, PROVIDERS
from lmsbridge.catalog.models import Course, Group
from lmsbridge.catalog.selectors import User, group_list_administered

from .models import (
    AuditEntry,
    Integration,
    PlatformAuditEntry,
    PlatformConnection,
    PlatformCourse,
    PlatformLearnerProgress,
    PlatformRun,
    SyncError,
    SyncRun,
)

CHART_RUNS = 30
BUSY_STATUSES = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)


@dataclass(frozen=True)
class IntegrationState:
    provider: str
    label: str
    integration: Integration | None
    last_run: SyncRun | None

    @property
    def status(self) -> str:
        return self.integration.get_status_display() if self.integration else "Inactive"


def integration_states_for_group(*, group: Group) -> list[IntegrationState]:
    """Every available provider with its integration (if any) and latest run: two queries."""
    latest = SyncRun.objects.filter(integration=OuterRef("pk")).order_by("-created_at", "-id")
    integrations = {
        i.provider: i
        for i in Integration.objects.filter(group=group).annotate(
            last_run_id=Subquery(latest.values("id")[:1])
        )
    }
    run_ids = [i.last_run_id for i in integrations.values() if i.last_run_id]
    last_runs = {run.pk: run for run in SyncRun.objects.filter(pk__in=run_ids)} if run_ids else {}
    return [
        IntegrationState(
            provider=key,
            label=label,
            integration=integrations.get(key),
            last_run=last_runs.get(integrations[key].last_run_id) if key in integrations else None,
        )
        for key, label in PROVIDER_CHOICES
    ]


def integration_for_group(*, group: Group, provider: str) -> Integration | None:
    """The group's integration of `provider`, or None before the first save.

    Raises 404 for a provider that is not in the registry (no page for it).
    """
    if provider not in PROVIDERS:
        raise Http404("No such provider")
    return Integration.objects.filter(group=group, provider=provider).first()


def audit_entries_for_integration(*, integration: Integration | None) -> QuerySet[AuditEntry]:
    """The integration's audit entries (who, when, action, field names), newest first."""
    if integration is None or integration.pk is None:
        return AuditEntry.objects.none()
    return (
        AuditEntry.objects.filter(integration=integration)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def run_list_for_group(*, group: Group) -> QuerySet[SyncRun]:
    """Runs of the group's integrations, newest first (the pages narrow it with
    `integrations.filters`)."""
    return (
        SyncRun.objects.filter(integration__group=group)
        .select_related("integration", "triggered_by")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class ErrorDigest:
    count: int
    first_category: str
    first_message: str


def run_error_digests(*, run_ids: list[int]) -> dict[int, ErrorDigest]:
    """Per run of a history page: how many errors, and the first one (two queries per page)."""
    if not run_ids:
        return {}
    per_run = (
        SyncError.objects.filter(run_id__in=run_ids)
        .values("run_id")
        .annotate(n=Count("id"), first=Min("id"))
        .order_by()
    )
    firsts = {row["run_id"]: (row["n"], row["first"]) for row in per_run}
    errors = SyncError.objects.in_bulk([first for _, first in firsts.values()])
    return {
        run_id: ErrorDigest(n, errors[first].category, errors[first].message)
        for run_id, (n, first) in firsts.items()
        if first in errors
    }


def run_chart_rows(*, runs: QuerySet[SyncRun], limit: int = CHART_RUNS) -> list[SyncRun]:
    """The latest `limit` runs of a (filtered) run list, oldest first, for the history chart."""
    rows = list(
        runs.select_related(None).only(
            "id", "kind", "status", "started_at", "finished_at", "fetched", "created", "updated"
        )[:limit]
    )
    rows.reverse()
    return rows


def run_get_for_group(*, group: Group, run_id: int) -> SyncRun:
    run = (
        SyncRun.objects.filter(pk=run_id, integration__group=group)
        .select_related("integration", "triggered_by")
        .first()
    )
    if run is None:
        raise Http404("No such run")
    return run


def run_active_for_integration(*, integration: Integration, kind: str) -> SyncRun | None:
    """The queued or running run of this kind, if any (what "already running" points to)."""
    return (
        SyncRun.objects.filter(integration=integration, kind=kind, status__in=BUSY_STATUSES)
        .order_by("created_at", "id")
        .first()
    )


def run_errors(*, run: SyncRun, query: str = "") -> QuerySet[SyncError]:
    """The run's per-item errors, searchable over external id and message."""
    errors = SyncError.objects.filter(run=run).order_by("id")
    query = query.strip()
    if query:
        errors = errors.filter(Q(external_id__icontains=query) | Q(message__icontains=query))
    return errors


def sync_run_list_for_user(*, user: User) -> QuerySet[SyncRun]:
    runs = SyncRun.objects.all()
    if not user.is_superuser:
        runs = runs.filter(integration__group__in=group_list_administered(user=user))
    return (
        runs.select_related("integration__group")
        .annotate(errors_count=Count("errors"))
        .order_by("-created_at", "-id")
    )


def sync_run_get_for_user(*, user: User, run_id: int) -> SyncRun | None:
    return sync_run_list_for_user(user=user).filter(pk=run_id).first()


def sync_error_list(*, run: SyncRun) -> QuerySet[SyncError]:
    return SyncError.objects.filter(run=run).order_by("id")


# --------------------------------------------------------------------------- platforms


def connection_for_group(*, group: Group) -> PlatformConnection | None:
    """The group's saved learning-platform connection, if any."""
    return PlatformConnection.objects.filter(group=group).first()


def platform_run_list_for_group(*, group) -> QuerySet[PlatformRun]:
    """The group's platform runs, newest first, with their error counts (one query a page)."""
    return (
        PlatformRun.objects.filter(connection__group=group)
        .select_related("connection", "triggered_by")
        .annotate(errors_count=Count("errors"))
        .order_by("-created_at", "-id")
    )


def platform_run_get_for_group(*, group, run_id: int) -> PlatformRun:
    """A run of the group's connection; 404 for another group's run (existence not revealed)."""
    run = platform_run_list_for_group(group=group).filter(pk=run_id).first()
    if run is None:
        raise Http404("No such run")
    return run


def platform_course_list(
    *, connection: PlatformConnection, query: str = "", match: str = ""
) -> QuerySet[PlatformCourse]:
    """The connection's present platform courses by title, with their matched course."""
    courses = PlatformCourse.objects.filter(connection=connection, present=True).select_related(
        "course"
    )
    if query:
        courses = courses.filter(title__icontains=query)
    if match in PlatformCourse.Match.values:
        courses = courses.filter(match=match)
    return courses.order_by("title", "id")


def platform_course_counts(*, connection: PlatformConnection) -> dict[str, int]:
    """How many present platform courses are matched, ambiguous or unmatched (one query)."""
    counts = dict(
        PlatformCourse.objects.filter(connection=connection, present=True)
        .values_list("match")
        .annotate(n=Count("id"))
        .values_list("match", "n")
    )
    return {value: counts.get(value, 0) for value in PlatformCourse.Match.values}


def platform_courses_for_course(*, course) -> list[PlatformCourse]:
    """The platform courses matched to a synced course (at most one per connection)."""
    return list(
        PlatformCourse.objects.filter(course=course, present=True).select_related("connection")
    )


def platform_progress_for(*, platform_course: PlatformCourse, emails: list[str]) -> dict:
    """Lower-cased e-mail → the platform's progress (percent) on that course, for `emails`."""
    return dict(
        PlatformLearnerProgress.objects.filter(
            connection_id=platform_course.connection_id,
            course_remote_id=platform_course.remote_id,
            email__in=[e.lower() for e in emails],
        ).values_list("email", "progress")
    )


def audit_entries_for_connection(*, connection: PlatformConnection) -> QuerySet:
    """The connection's audit entries, newest first."""
    return (
        PlatformAuditEntry.objects.filter(connection=connection)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


# --------------------------------------------------------------------------- health

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


def next_scheduled_run(*, kind: str, now: datetime | None = None) -> datetime | None:
    """When the beat schedule next runs the daily `kind` sync, in the schedule's time zone
    (the earliest of its enabled entries; None when none is enabled)."""
    from django_celery_beat.models import PeriodicTask

    now = now or timezone.now()
    times = []
    tasks = PeriodicTask.objects.filter(task=DAILY_TASKS[kind], enabled=True, crontab__isnull=False)
    for task in tasks.select_related("crontab"):
        zone = ZoneInfo(str(task.crontab.timezone))
        local = now.astimezone(zone)
        moment = local + task.crontab.schedule.remaining_estimate(local)
        times.append((moment + timedelta(milliseconds=500)).replace(microsecond=0))
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
            next_run_at=next_scheduled_run(kind=kind, now=now)
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


# --------------------------------------------------------------------------- home


@dataclass(frozen=True)
class GroupRow:
    group: Group
    depth: int  # below the nearest listed ancestor
    integration: Integration | None
    platform: PlatformConnection | None


def group_rows_with_status(*, groups: list[Group]) -> list[GroupRow]:
    """The groups as a tree (each under its nearest listed ancestor, names in order) with their
    Udemy integration and learning platform: three queries whatever the number of groups."""
    by_id = {g.pk: g for g in groups}
    parents = dict(Group.objects.values_list("id", "parent_id"))
    integrations = {
        i.group_id: i for i in Integration.objects.filter(group_id__in=by_id, provider="udemy")
    }
    platforms = {c.group_id: c for c in PlatformConnection.objects.filter(group_id__in=by_id)}

    def listed_parent(group_id: int) -> int | None:
        parent, seen = parents.get(group_id), {group_id}
        while parent is not None and parent not in by_id and parent not in seen:
            seen.add(parent)
            parent = parents.get(parent)
        return parent if parent in by_id else None

    children: dict[int | None, list[Group]] = {}
    for group in groups:
        children.setdefault(listed_parent(group.pk), []).append(group)
    rows: list[GroupRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for group in sorted(children.get(parent, []), key=lambda g: g.name.lower()):
            rows.append(GroupRow(group, depth, integrations.get(group.pk), platforms.get(group.pk)))
            walk(group.pk, depth + 1)

    walk(None, 0)
    return rows
