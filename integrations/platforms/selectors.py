"""Read access to platform connections and runs, always scoped to one group."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import Http404

from integrations.models import PlatformAuditEntry, PlatformConnection, PlatformRun


def connection_of_group(*, group) -> PlatformConnection | None:
    return PlatformConnection.objects.filter(group=group).first()


def run_list_for_group(*, group) -> QuerySet[PlatformRun]:
    """The group's platform runs, newest first, with their error counts (one query a page)."""
    return (
        PlatformRun.objects.filter(connection__group=group)
        .select_related("connection", "triggered_by")
        .annotate(errors_count=Count("errors"))
        .order_by("-created_at", "-id")
    )


def run_get_for_group(*, group, run_id: int) -> PlatformRun:
    """A run of the group's connection; 404 for another group's run (existence not revealed)."""
    run = run_list_for_group(group=group).filter(pk=run_id).first()
    if run is None:
        raise Http404("No such run")
    return run


def audit_for_connection(*, connection: PlatformConnection, limit: int = 20):
    return list(
        PlatformAuditEntry.objects.filter(connection=connection).select_related("actor")[:limit]
    )
