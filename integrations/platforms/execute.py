"""Executing a PlatformRun: lease, client, engine, outcome. Never raises for platform problems.

A long rate limit (`PlatformRetryLater`) raises `RescheduleRun`: the Celery task retries later
and the run resumes (a directory import is idempotent; a push resumes from its ledger).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError
from django.utils import timezone

from integrations.models import PlatformConnection, PlatformRun

from ..services.lease import execution_holder, holder_run_id
from .base import PlatformApiError, PlatformAuthError, PlatformRetryLater
from .directory import directory_import
from .registry import platform_module
from .runs import (
    lease_acquire,
    lease_holder,
    lease_release,
    lease_renew,
    outcome_status,
    run_add_counts,
    run_finish,
    run_record_client,
    run_record_error,
    run_skip,
    run_start,
)

logger = logging.getLogger(__name__)
PLAN_LIMIT = 1000  # dry-run entries stored on the run (the total is in details)
RENEW_EVERY = 25  # items or pages between lease renewals
WAIT_FOR_RUNNING = 120.0  # seconds before a sync-triggered push tries the lease again


class RescheduleRun(Exception):
    """The run must continue later (the platform is rate-limiting for a long time)."""

    def __init__(self, run_id: int, countdown: float, reason: str) -> None:
        super().__init__(reason)
        self.run_id, self.countdown, self.reason = run_id, countdown, reason


def platform_run_execute(*, run_id: int) -> PlatformRun:
    """Run (or resume) a platform run; upstream problems end up on the run, not raised."""
    run = PlatformRun.objects.select_related("connection__group").get(pk=run_id)
    if run.status in PlatformRun.FINISHED:
        return run  # a duplicate delivery of a finished run
    if run.dry_run:  # reads the database only: no lease, no request
        _execute(run, renew=lambda: None)
        return run
    connection, holder = run.connection, execution_holder(run.pk)
    if not lease_acquire(connection=connection, kind=run.kind, holder=holder):
        current, seconds_left = lease_holder(connection=connection, kind=run.kind)
        if holder_run_id(current) == run.pk:
            # Another delivery of this very run is executing (or its lease has not expired yet
            # after a crash elsewhere): come back when it can be settled.
            raise RescheduleRun(run.pk, max(5, min(seconds_left, 60)), "run already executing")
        if run.trigger == PlatformRun.Trigger.SYNC:  # newer data than the running push saw
            raise RescheduleRun(run.pk, WAIT_FOR_RUNNING, "waiting for the running push")
        run_skip(run=run, reason=f"Skipped: a {run.get_kind_display().lower()} is already running.")
        return run
    calls = {"n": 0}

    def renew() -> None:
        calls["n"] += 1
        if calls["n"] % RENEW_EVERY == 0:
            lease_renew(connection=connection, kind=run.kind, holder=holder)

    try:
        _execute(run, renew=renew)
    finally:
        lease_release(connection=connection, kind=run.kind, holder=holder)
    return run


def _execute(run: PlatformRun, *, renew: Callable[[], None]) -> None:
    connection = run.connection
    module = platform_module(connection.kind)
    run_start(run=run)
    client = None
    try:
        if run.kind == PlatformRun.Kind.PUSH and (problem := _push_problem(module, connection)):
            _fail(run, "config", problem)
            return
        client = None if run.dry_run else module.make_client(connection)
        with client or nullcontext():
            if run.kind == PlatformRun.Kind.DIRECTORY:
                source = module.directory_source(connection, client)
                directory_import(run=run, connection=connection, source=source, on_page=renew)
            else:
                result = module.push(
                    run=run, connection=connection, client=client, dry_run=run.dry_run,
                    on_item=renew,
                )  # fmt: skip
                _record_push(run, result)
    except PlatformRetryLater as exc:
        raise RescheduleRun(run.pk, exc.retry_after, exc.message) from None
    except PlatformAuthError as exc:
        _fail(run, "auth", exc.message, exc.excerpt, connection_error=True)
        return
    except PlatformApiError as exc:
        _fail(run, type(exc).__name__, exc.message, exc.excerpt)
        return
    except SoftTimeLimitExceeded:
        _fail(run, "timeout", "The run hit its time limit: the next run goes on from there.")
        return
    except DatabaseError as exc:
        logger.exception("platform run %s: database error", run.pk)
        _fail(run, "database", f"Database error: {type(exc).__name__}")
        return
    finally:
        if client is not None:
            run_record_client(run=run, client=client)
    _succeed(run)


def _push_problem(module: Any, connection: PlatformConnection) -> str:
    if not hasattr(module, "push"):
        return f"{connection.get_kind_display()} connections can't receive a push."
    return module.push_problem(connection)


def _record_push(run: PlatformRun, result: dict[str, Any]) -> None:
    courses, completions, plan = result["courses"], result["completions"], result["plan"]
    run.details.update({"courses": courses, "completions": completions, "plan_total": len(plan)})
    run.plan = plan[:PLAN_LIMIT]
    run.save(update_fields=["details", "plan"])
    considered = sum(courses.get(k, 0) for k in ("unchanged", "planned"))
    considered += sum(completions.get(k, 0) for k in ("unchanged", "planned", "pending"))
    run_add_counts(
        run=run,
        fetched=considered,
        created=courses.get("created", 0) + completions.get("marked", 0),
        updated=courses.get("updated", 0),
        unchanged=courses["unchanged"] + completions["unchanged"],
        removed=courses.get("detached", 0),
        failed=courses.get("failed", 0) + completions.get("failed", 0),
        pending=completions["pending"],
    )


def _succeed(run: PlatformRun) -> None:
    connection = run.connection
    if not run.dry_run:
        field = "last_import_at" if run.kind == PlatformRun.Kind.DIRECTORY else "last_push_at"
        updates: dict[str, Any] = {field: timezone.now()}
        if connection.status == PlatformConnection.Status.ERROR:
            updates.update(status=PlatformConnection.Status.ACTIVE, status_message="")
        PlatformConnection.objects.filter(pk=connection.pk).update(**updates)
    run.refresh_from_db()
    run_finish(run=run, status=outcome_status(run=run, complete=True))


def _fail(
    run: PlatformRun,
    category: str,
    message: str,
    excerpt: str = "",
    *,
    connection_error: bool = False,
) -> None:
    """Close the run with a clear error; what was committed before stays committed."""
    logger.warning("platform run %s failed: %s: %s", run.pk, category, message)
    try:
        run.refresh_from_db()
        run_record_error(run=run, category=category, message=message, excerpt=excerpt)
        if connection_error:
            PlatformConnection.objects.filter(pk=run.connection_id).update(
                status=PlatformConnection.Status.ERROR, status_message=message[:500]
            )
        run_finish(run=run, status=outcome_status(run=run, complete=False), summary=message)
    except DatabaseError:
        logger.exception("platform run %s: could not record its failure", run.pk)
