"""A group's Udemy-side integrations: their state, audit trail, sync runs and run errors (also
as the API lists them, for every group the user administers)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext

from catalog.models import Group
from catalog.selectors import User, group_list_administered
from integrations.connectors.providers import PROVIDER_CHOICES, PROVIDERS
from integrations.models import AuditEntry, Integration, SyncError, SyncRun

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
        return self.integration.get_status_display() if self.integration else gettext("Inactive")


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


def run_error_digests(*, run_ids: list[int], errors: type = SyncError) -> dict[int, ErrorDigest]:
    """Per run of a history page: how many errors, and the first one (two queries per page).
    `errors`: the run's error model (`SyncError`, or `PlatformError` for platform runs)."""
    if not run_ids:
        return {}
    per_run = (
        errors.objects.filter(run_id__in=run_ids)
        .values("run_id")
        .annotate(n=Count("id"), first=Min("id"))
        .order_by()
    )
    firsts = {row["run_id"]: (row["n"], row["first"]) for row in per_run}
    rows = errors.objects.in_bulk([first for _, first in firsts.values()])
    return {
        run_id: ErrorDigest(n, rows[first].category, rows[first].message)
        for run_id, (n, first) in firsts.items()
        if first in rows
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
