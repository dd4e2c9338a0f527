"""Platform runs: request an import, an export or a push (a dry run executes at once), the daily
imports, and what follows a Udemy sync (the push of its group's connection, a new match of the
platform's course list). The engines live in `integrations/platforms/`."""

from __future__ import annotations

import logging
from datetime import date

from django.utils import translation

from integrations.connectors.platforms import kinds_with, platform_for, platform_run_kinds
from integrations.core.execute import run_enqueue
from integrations.core.kinds import Capability
from integrations.core.run_requests import other_run_busy, run_request, runs_request_daily
from integrations.models import Integration, PlatformAuditEntry, PlatformConnection, PlatformRun

from .platform_execute import platform_run_execute

logger = logging.getLogger(__name__)
BUSY = PlatformRun.BUSY
RUN_PLATFORM_TASK = "integrations.platform_tasks.run_platform"  # stable name (tasks/platforms.py)


def platform_run_request(
    *,
    connection: PlatformConnection,
    kind: str,
    trigger: str,
    user=None,
    dry_run: bool = False,
    scheduled_for: date | None = None,
) -> PlatformRun:
    """Create a run and enqueue it (a dry run is executed at once: it sends nothing).

    If a run of the same kind is queued or running, the new one is recorded as skipped."""
    connector = platform_for(connection.kind)
    if kind == PlatformRun.Kind.PUSH and not connector.supports(Capability.PUSH):
        raise ValueError(f"{connection.kind} connections can't receive a push")
    if kind not in connector.run_kinds:
        raise ValueError(f"{connection.kind} connections have no {kind} run")
    if dry_run and kind != PlatformRun.Kind.PUSH:
        raise ValueError("only a push has a dry run")
    run = run_request(
        owner=connection,
        kind=kind,
        trigger=trigger,
        user=user,
        audit=(PlatformAuditEntry, f"{kind}_dry_run" if dry_run else kind),
        busy=None if dry_run else _busy,
        busy_reason=_busy_reason,
        enqueue=None if dry_run else _enqueue,
        dry_run=dry_run,
        scheduled_for=scheduled_for,
    )
    if dry_run:
        return platform_run_execute(run_id=run.pk)
    return run


def _busy(run: PlatformRun) -> bool:
    """Another run of the kind is queued or running. After a sync, only a *queued* push makes
    this one redundant (it will read the fresh data); a running push may predate the sync, so
    this one is queued and waits for it (see `platform_run_execute`)."""
    statuses = [PlatformRun.Status.QUEUED] if run.trigger == PlatformRun.Trigger.SYNC else BUSY
    return other_run_busy(run, statuses, dry_run=False)


def _busy_reason(run: PlatformRun) -> str:
    with translation.override("en"):  # stored with the run: the kind's label in English
        return f"Skipped: a {run.get_kind_display().lower()} is already queued or running."


def _enqueue(run: PlatformRun, countdown: float | None = None) -> None:
    run_enqueue(task_name=RUN_PLATFORM_TASK, run=run, countdown=countdown)


DAILY_KINDS = (PlatformRun.Kind.DIRECTORY, PlatformRun.Kind.COURSES, PlatformRun.Kind.REPORTS)


def platform_import_scheduled(*, today: date) -> list[PlatformRun]:
    """Beat entry point (07:15 Europe/Paris, before the statistics sync): per tested connection
    and local day, one directory import and, where the platform has them, one course list
    import and one report export (a unique guard stops a double daily run)."""
    connections = PlatformConnection.objects.filter(
        status__in=PlatformConnection.running_statuses()
    )
    return runs_request_daily(
        connections.select_related("group"),
        lambda connection: [k for k in DAILY_KINDS if k in platform_run_kinds(connection.kind)],
        lambda connection, kind: platform_run_request(
            connection=connection,
            kind=kind,
            trigger=PlatformRun.Trigger.SCHEDULE,
            scheduled_for=today,
        ),
        log_already="daily %s of connection %s already requested",
    )


def platform_courses_rematch(integration_id: int) -> None:
    """After a content sync: match the platform's course list again against the fresh catalog
    (local rows only, no request). Never raises: a sync must not fail for it."""
    try:
        kinds = kinds_with(Capability.COURSES)
        connection = PlatformConnection.objects.filter(
            group__integrations__pk=integration_id, kind__in=kinds
        ).first()
        if connection is not None:
            platform_for(connection.kind).courses_match(connection=connection)
    except Exception:
        logger.exception("could not match platform courses after integration %s", integration_id)


def platform_push_after_sync(integration_id: int) -> PlatformRun | None:
    """Hook for the end of each content/stats sync: queue a push when the integration's group
    has a tested LearnUpon connection with "push after each sync" on. Never raises: a problem
    here must not turn a finished Udemy sync into a failure."""
    try:
        group_id = (
            Integration.objects.filter(pk=integration_id).values_list("group_id", flat=True).first()
        )
        push_kinds = kinds_with(Capability.PUSH)
        connection = PlatformConnection.objects.filter(
            group_id=group_id,
            kind__in=push_kinds,
            status__in=PlatformConnection.running_statuses(),
            push_after_sync=True,
        ).first()
        if connection is None:
            return None
        return platform_run_request(
            connection=connection, kind=PlatformRun.Kind.PUSH, trigger=PlatformRun.Trigger.SYNC
        )
    except Exception:
        logger.exception("could not queue the platform push after integration %s", integration_id)
        return None


def push_after_sync_receiver(*, sender, run, **kwargs) -> None:
    """`core.events.run_completed` receiver for Udemy syncs (connected in `IntegrationsConfig`):
    a finished sync is followed by the push of its group's platform connection, if any, and a
    content sync by a new match of the platform's course list."""
    platform_push_after_sync(run.integration_id)
    if run.kind == "content":
        platform_courses_rematch(run.integration_id)
