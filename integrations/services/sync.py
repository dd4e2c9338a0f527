"""Requesting and executing syncs: one run at a time per integration and kind."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from integrations.models import Integration, SyncRun
from integrations.registry import provider_module

from .audit import audit_record
from .content_sync import content_sync
from .lease import (
    execution_holder,
    holder_run_id,
    lease_acquire,
    lease_holder,
    lease_is_held,
    lease_release,
    lease_renew,
)
from .platforms import platform_push_after_sync
from .runs import outcome_status, run_finish, run_record_error, run_skip, run_start
from .stats_sync import pending_apply, stats_sync

logger = logging.getLogger(__name__)
BUSY = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)


class RescheduleSync(Exception):
    """The run must continue later (rate limit, or a content sync still running)."""

    def __init__(self, run_id: int, countdown: float, reason: str) -> None:
        super().__init__(reason)
        self.run_id, self.countdown, self.reason = run_id, countdown, reason


def sync_request(
    *,
    integration: Integration,
    kind: str,
    trigger: str,
    user=None,
    scheduled_for: date | None = None,
) -> SyncRun:
    """Create a run and enqueue it. If one of the same kind is queued or running, the new run is
    recorded as *skipped* ("already running") and nothing is enqueued."""
    with transaction.atomic():
        busy = SyncRun.objects.filter(integration=integration, kind=kind, status__in=BUSY).exists()
        run = SyncRun.objects.create(
            integration=integration,
            kind=kind,
            trigger=trigger,
            triggered_by=user if user and user.is_authenticated else None,
            scheduled_for=scheduled_for,
            task_id=uuid.uuid4().hex,
        )
        if trigger in (SyncRun.Trigger.MANUAL, SyncRun.Trigger.API):
            audit_record(
                integration=integration, actor=user, action=f"sync_{kind}", detail=f"run {run.pk}"
            )
        if busy:
            run_skip(
                run=run, reason=f"Skipped: a {kind} sync of this integration is already running."
            )
            return run
        transaction.on_commit(partial(_enqueue, run))
    return run


def _enqueue(run: SyncRun, countdown: float | None = None) -> None:
    from integrations.tasks import run_sync

    run_sync.apply_async(args=[run.pk], task_id=run.task_id or None, countdown=countdown)


def sync_request_foreground(*, integration: Integration, kind: str) -> SyncRun:
    """A run for `manage.py sync_udemy`: created like any other, executed by the caller."""
    busy = SyncRun.objects.filter(integration=integration, kind=kind, status__in=BUSY).exists()
    run = SyncRun.objects.create(
        integration=integration, kind=kind, trigger=SyncRun.Trigger.COMMAND
    )
    if busy:
        run_skip(run=run, reason=f"Skipped: a {kind} sync of this integration is already running.")
    return run


def sync_request_scheduled(*, kind: str, today: date) -> list[SyncRun]:
    """Beat entry point: one run per active integration and local day (a unique guard)."""
    runs = []
    for integration in Integration.objects.filter(status=Integration.Status.ACTIVE):
        try:
            runs.append(
                sync_request(
                    integration=integration,
                    kind=kind,
                    trigger=SyncRun.Trigger.SCHEDULE,
                    scheduled_for=today,
                )
            )
        except IntegrityError:
            logger.info("daily %s sync of integration %s already requested", kind, integration.pk)
    return runs


def sync_execute(*, run_id: int, progress: Callable[[SyncRun], None] | None = None) -> SyncRun:
    """Run (or resume) a sync. Never raises for upstream problems: they end up on the run."""
    run = SyncRun.objects.select_related("integration__group", "integration__owner").get(pk=run_id)
    if run.status in SyncRun.FINISHED:
        return run  # a duplicate delivery of a finished run
    integration, kind, holder = run.integration, run.kind, execution_holder(run.pk)
    if not lease_acquire(integration=integration, kind=kind, holder=holder):
        current, seconds_left = lease_holder(integration=integration, kind=kind)
        if holder_run_id(current) == run.pk:
            # Another delivery of this very run is executing (or its lease has not expired
            # yet after a crash elsewhere): come back when it can be settled.
            raise RescheduleSync(run.pk, max(5, min(seconds_left, 60)), "run already executing")
        run_skip(run=run, reason=f"Skipped: a {kind} sync of this integration is already running.")
        return run
    try:
        if kind == SyncRun.Kind.STATS and lease_is_held(
            integration=integration, kind=SyncRun.Kind.CONTENT
        ):
            raise RescheduleSync(run.pk, 60, "waiting for the content sync to finish")
        _execute(run=run, holder=holder, progress=progress)
    finally:
        _reconnect_if_broken()
        lease_release(integration=integration, kind=kind, holder=holder)
    return run


def _execute(
    *, run: SyncRun, holder: str, progress: Callable[[SyncRun], None] | None = None
) -> None:
    integration = run.integration
    module = provider_module(integration.provider)
    run_start(run=run)

    def renew() -> None:
        lease_renew(integration=integration, kind=run.kind, holder=holder)
        if progress:
            progress(run)

    try:
        with module.make_client(integration) as client:
            if run.kind == SyncRun.Kind.CONTENT:
                content_sync(
                    run=run, streams=module.content_streams(integration, client), on_page=renew
                )
                run.refresh_from_db()
                pending_apply(run=run)
            else:
                pending_apply(run=run)
                stats_sync(run=run, stream=module.stats_stream(client), on_page=renew)
                run.refresh_from_db()
    except module.RetryLater as exc:
        raise RescheduleSync(run.pk, exc.retry_after, exc.message) from exc
    except module.AuthError as exc:
        _fail(run=run, category="auth", message=exc.message, integration_error=True)
        return
    except module.ProviderError as exc:
        _fail(run=run, category=type(exc).__name__, message=exc.message, excerpt=exc.excerpt)
        return
    except SoftTimeLimitExceeded:
        _fail(run=run, category="timeout", message="The sync hit its time limit.", timed_out=True)
        return
    except DatabaseError as exc:
        logger.exception("sync run %s: database error", run.pk)
        _fail(run=run, category="database", message=f"Database error: {type(exc).__name__}")
        return
    except Exception as exc:
        # A bug must not leave the run RUNNING forever (every later trigger would be skipped).
        logger.exception("sync run %s: unexpected error", run.pk)
        _fail(run=run, category="internal", message=f"Unexpected error: {type(exc).__name__}")
        return
    _succeed(run=run)


def _reconnect_if_broken() -> None:
    """After a lost database connection, start the bookkeeping on a fresh one."""
    if connection.in_atomic_block:
        return
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        connection.close()


def _succeed(*, run: SyncRun) -> None:
    integration = run.integration
    now = timezone.now()
    field = "last_content_sync" if run.kind == SyncRun.Kind.CONTENT else "last_stats_sync"
    setattr(integration, field, now)
    update = [field]
    if integration.status == Integration.Status.ERROR:
        integration.status, integration.status_message = Integration.Status.ACTIVE, ""
        update += ["status", "status_message"]
    integration.save(update_fields=update)
    run_finish(run=run, status=outcome_status(run=run, complete=True))
    # A LearnUpon connection of the group receives the new catalog / completions (never raises).
    platform_push_after_sync(run.integration_id)


def _fail(
    *,
    run: SyncRun,
    category: str,
    message: str,
    excerpt: str = "",
    integration_error: bool = False,
    timed_out: bool = False,
) -> None:
    """Close the run with a clear error; the pages committed before stay committed."""
    logger.warning("sync run %s failed: %s: %s", run.pk, category, message)
    _reconnect_if_broken()
    try:
        run.refresh_from_db()
        run_record_error(run=run, category=category, message=message, excerpt=excerpt)
        if integration_error:
            Integration.objects.filter(pk=run.integration_id).update(
                status=Integration.Status.ERROR, status_message=message[:500]
            )
        status = SyncRun.Status.TIMED_OUT if timed_out else outcome_status(run=run, complete=False)
        run_finish(run=run, status=status, summary=message)
    except DatabaseError:
        logger.exception("sync run %s: could not record its failure", run.pk)
