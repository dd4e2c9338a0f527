"""Executing a run, written once: lease, start, the connector's work, outcome, release.

`RunExecutor` is the template every connector runs through (Udemy syncs, platform imports and
pushes, any new kind). A subclass names its run model and implements `work()`; the lease model
comes from the owner (`owner.leases`), client errors are the core classes
(`integrations.core.errors`), and everything around the work is here:

- one execution per run and (owner, kind): the lease (`core.lease`); a second delivery of the
  same run while it executes is rescheduled, another run of the same kind is skipped;
- a long rate limit (`RetryLater`) or a used time slice raises `Reschedule`, which the Celery
  task turns into `self.retry(countdown=…)`: the worker is freed and the run resumes later;
- an upstream failure that outlived the client's retries closes the run as failed and puts the
  owner (integration, connection) in Error with its kind (`owner_error_kind`): credentials
  refused, service unavailable, bad responses. Error keeps the schedule: the next run that goes
  through brings the owner back to Active (`owner_status_changed` is sent both ways);
- any other failure (a refused item, a time limit, a database error, a bug) closes the run too:
  a run never stays "running" because of an exception;
- a run that went through its work is closed as succeeded or partial, the owner's "last run"
  timestamp is set, and `run_completed` is sent (whatever follows subscribes to it). Every
  closed run sends `run_ended` (`core.runs.run_finish`).

While it executes, every log line carries the run's fields (`log_fields`: run_id, the owner's
id, kind, group, provider or platform) and none carries the owner's secrets (`core.logs`); the
run is counted in the Prometheus metrics (`core.metrics`) when it starts and when it ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from integrations.core import lease, metrics
from integrations.core.errors import (
    ApiError,
    AuthError,
    BadResponse,
    ConfigError,
    NotFound,
    RetryLater,
    Unavailable,
)
from integrations.core.events import owner_status_changed, run_completed
from integrations.core.fields import EncryptedTextField
from integrations.core.logs import run_log_context
from integrations.core.models import ErrorKind, LeaseBase, RunBase, RunStatus
from integrations.core.runs import (
    outcome_status,
    run_finish,
    run_record_error,
    run_skip,
    run_start,
    send_after_commit,
)

logger = logging.getLogger(__name__)


# Every run message: no time limits in it, so the worker's own CELERY_TASK_(SOFT_)TIME_LIMIT apply
# (the limits of the process that enqueued would otherwise travel in the header and win).
RUN_MESSAGE_OPTIONS: dict[str, Any] = {"time_limit": None, "soft_time_limit": None}
RUN_LEASE_LOST = "the lease expired and another run holds it"  # this worker stalled past it
RUN_EXECUTING = "run already executing"  # the reason a second delivery of a run is rescheduled


class Reschedule(Exception):
    """The run must continue later (rate limit, or it waits for another run)."""

    def __init__(
        self,
        run_id: int,
        countdown: float,
        reason: str,
        *,
        time_slice: bool = False,
        working: bool = False,
    ) -> None:
        super().__init__(reason)
        self.run_id, self.countdown, self.reason = run_id, countdown, reason
        self.time_slice = time_slice  # the run used its slice: it goes back in the queue
        # The run's work goes on elsewhere meanwhile (its helpers): no wait limit applies.
        self.working = working
        self.run_model: type[RunBase] | None = None  # set by the executor


class RunFailed(Exception):
    """Raised by `work()` to close the run as failed with a message for the admin
    (`timed_out`: as timed out, e.g. an upstream job that outlived its time limit)."""

    def __init__(
        self, category: str, message: str, excerpt: str = "", *, timed_out: bool = False
    ) -> None:
        super().__init__(message)
        self.category, self.message, self.excerpt = category, message, excerpt
        self.timed_out = timed_out


def reconnect_if_broken() -> None:
    """After a lost database connection, start the bookkeeping on a fresh one."""
    if connection.in_atomic_block:
        return
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        connection.close()


class RunExecutor:
    """The life of one run. Subclasses set the class attributes and implement `work()`."""

    run_model: ClassVar[type[RunBase]]
    renew_every: ClassVar[int] = 1  # calls of `renew` between two lease renewals
    # ...and seconds: a lease lives LEASE_TTL (10 minutes), so renewing it at every page of a
    # sync (an UPDATE and its commit, a tenth of a page's cost at latency 0) buys nothing.
    renew_seconds: ClassVar[float] = 0.0
    # Seconds of work after which a run goes back to the end of the queue (resuming from its
    # checkpoint), so that one long run never keeps a worker from the others. None: never
    # (a run that could not resume mid-way).
    time_slice: ClassVar[float | None] = None
    timeout_message: ClassVar[str] = "The run hit its time limit."
    select_related: ClassVar[tuple[str, ...]] = ()
    # The log field of the owner's connector ("provider", "platform"; "": none, nor the group).
    connector_log_field: ClassVar[str] = ""

    def __init__(self, progress: Callable[[RunBase], None] | None = None) -> None:
        self.progress = progress

    # ------------------------------------------------------------------ hooks

    def work(self, run: RunBase, renew: Callable[[], None]) -> None:
        """The connector's part: fetch, map, write. Call `renew()` after each page or item."""
        raise NotImplementedError

    def prepare(self, run: RunBase) -> None:
        """Called once the run is loaded, before anything else (e.g. pick the client module)."""

    def uses_lease(self, run: RunBase) -> bool:
        return True

    def before_work(self, run: RunBase) -> None:
        """Checks under the lease before the run starts (may raise `Reschedule`)."""

    def when_busy(self, run: RunBase) -> None:
        """Another run of the same kind holds the lease: by default this one is skipped."""
        run_skip(run=run, reason=self.busy_reason(run))

    def busy_reason(self, run: RunBase) -> str:
        return f"Skipped: a {run.get_kind_display().lower()} run is already running."

    def last_run_field(self, run: RunBase) -> str | None:
        """The owner's field dated when a run of this kind goes through (`LAST_RUN_FIELDS`)."""
        return type(run.owner).LAST_RUN_FIELDS.get(run.kind)

    def after_work(self, run: RunBase) -> None:
        """Always called after `work()` (success or failure), e.g. to record client counters."""

    def log_fields(self, run: RunBase) -> dict[str, Any]:
        """The fields every log line of the run carries (identifiers only, never free text),
        with the owner's group and connector when `connector_log_field` names it."""
        fields = {"run_id": run.pk, f"{run.OWNER}_id": run.owner_id, "kind": run.kind}
        if self.connector_log_field:
            fields["group"] = run.owner.group.slug
            fields[self.connector_log_field] = run.owner.connector
        return fields

    # ------------------------------------------------------------------ template

    def execute(self, *, run_id: int) -> RunBase:
        """Run (or resume) a run. Never raises for upstream problems: they end up on the run;
        raises `Reschedule` (with `run_model` set) when the run must continue later."""
        try:
            return self._execute(run_id=run_id)
        except Reschedule as exc:
            exc.run_model = self.run_model
            raise

    def _execute(self, *, run_id: int) -> RunBase:
        run = self.run_model.objects.select_related(*self.select_related).get(pk=run_id)
        if run.status in self.run_model.FINISHED:
            return run  # a duplicate delivery of a finished run
        metrics.run_labels(run)  # read now, while the owner is loaded
        with run_log_context(self.log_fields(run), secrets=owner_secrets(run.owner)):
            return self._execute_loaded(run)

    def _execute_loaded(self, run: RunBase) -> RunBase:
        self.prepare(run)
        if not self.uses_lease(run):
            self._run(run, renew=lambda: None)
            return run
        scope = {run.OWNER: run.owner, "kind": run.kind}
        lease_model: type[LeaseBase] = run.owner.leases.model
        holder = lease.execution_holder(run.pk)
        if not lease.acquire(lease_model, holder=holder, **scope):
            current, seconds_left = lease.current(lease_model, **scope)
            if lease.holder_run_id(current) == run.pk:
                # Another delivery of this very run is executing (or its lease has not expired
                # yet after a crash elsewhere): come back when it can be settled.
                raise Reschedule(run.pk, max(5, min(seconds_left, 60)), RUN_EXECUTING)
            self.when_busy(run)
            return run
        calls, slice_ends, renewed_at = 0, self._slice_end(), time.monotonic()

        def renew(*, may_yield: bool = True) -> None:
            """Between two units of work: renew the lease now and then and, when the slice is
            used, yield the worker (`may_yield=False` while waiting on an upstream job whose
            progress a reschedule would lose)."""
            nonlocal calls, renewed_at
            calls += 1
            now = time.monotonic()
            if may_yield and slice_ends is not None and now > slice_ends:
                raise Reschedule(run.pk, 1, "time slice used: other runs go first", time_slice=True)
            if calls % self.renew_every == 0 and now - renewed_at >= self.renew_seconds:
                if not lease.renew(lease_model, holder=holder, **scope):  # stop writing at once
                    raise Reschedule(run.pk, 5, RUN_LEASE_LOST)
                renewed_at = now
            if self.progress:
                self.progress(run)

        try:
            self.before_work(run)
            self._run(run, renew=renew)
        finally:
            reconnect_if_broken()
            lease.release(lease_model, holder=holder, **scope)
        return run

    def _slice_end(self) -> float | None:
        seconds = self.time_slice
        return None if not seconds else time.monotonic() + seconds

    def _run(self, run: RunBase, *, renew: Callable[[], None]) -> None:
        first_start = run.started_at is None
        run_start(run=run)
        if first_start:
            metrics.record_run_started(run)
        logger.info(
            "run %s %s: %s, %s", run.pk, "started" if first_start else "resumed", run.kind,
            getattr(run, "trigger", ""),
        )  # fmt: skip
        try:
            self.work(run, renew)
        except RetryLater as exc:
            raise Reschedule(run.pk, exc.retry_after, exc.message) from None
        except RunFailed as exc:
            self.fail(run, exc.category, exc.message, exc.excerpt, timed_out=exc.timed_out)
        except ApiError as exc:
            category = "auth" if isinstance(exc, AuthError) else type(exc).__name__
            kind = owner_error_kind(exc)
            self.fail(run, category, exc.message, exc.excerpt, owner_error=kind)
        except Reschedule:
            raise  # the task comes back later (time slice used)
        except SoftTimeLimitExceeded:
            self.fail(run, "timeout", self.timeout_message, timed_out=True)
        except DatabaseError as exc:
            logger.exception("run %s: database error", run.pk)
            self.fail(run, "database", f"Database error: {type(exc).__name__}")
        except Exception as exc:
            # A bug must not leave the run RUNNING forever (every later trigger would be skipped).
            logger.exception("run %s: unexpected error", run.pk)
            self.fail(run, "internal", f"Unexpected error: {type(exc).__name__}")
        else:
            self.succeed(run)
        finally:
            self.after_work(run)
            self._log_outcome(run)

    def _log_outcome(self, run: RunBase) -> None:
        if run.status not in self.run_model.FINISHED:
            logger.info("run %s continues later", run.pk)
            return
        seconds = run.duration.total_seconds() if run.duration else 0.0
        logger.info(
            "run %s ended %s in %.1f s: fetched %s, created %s, updated %s, failed %s",
            run.pk, run.status, seconds, run.fetched, run.created, run.updated, run.failed,
        )  # fmt: skip

    def succeed(self, run: RunBase) -> None:
        owner = run.owner
        updates: dict[str, Any] = {}
        if field := self.last_run_field(run):
            updates[field] = timezone.now()
        recovered = (
            type(owner)
            .objects.filter(pk=owner.pk, status=owner.Status.ERROR)
            .update(status=owner.Status.ACTIVE, status_message="", error_kind="")
        )
        if recovered:
            updates.update(status=owner.Status.ACTIVE, status_message="", error_kind="")
        if updates:
            type(owner).objects.filter(pk=owner.pk).update(**updates)
            for name, value in updates.items():
                setattr(owner, name, value)
        if recovered:
            send_after_commit(
                owner_status_changed,
                sender=type(owner),
                owner=owner,
                old=owner.Status.ERROR,
                new=owner.Status.ACTIVE,
            )
        run.refresh_from_db()
        run_finish(run=run, status=outcome_status(run=run, complete=True))
        run_completed.send(sender=type(run), run=run)

    def fail(
        self,
        run: RunBase,
        category: str,
        message: str,
        excerpt: str = "",
        *,
        owner_error: str = "",
        timed_out: bool = False,
    ) -> None:
        """Close the run with a clear error; what was committed before stays committed.
        `owner_error` (an `ErrorKind`) also puts the owner in Error, unless it was deactivated
        meanwhile."""
        logger.warning("run %s failed: %s: %s", run.pk, category, message)
        reconnect_if_broken()
        try:
            # One transaction: the alerts its signals send (after commit) read the run's final
            # state, never "Running" beside an integration already in Error.
            with transaction.atomic():
                run.refresh_from_db()
                run_record_error(run=run, category=category, message=message, excerpt=excerpt)
                if owner_error:
                    self._owner_to_error(run, owner_error, message)
                status = (
                    RunStatus.TIMED_OUT if timed_out else outcome_status(run=run, complete=False)
                )
                run_finish(run=run, status=status, summary=message)
        except DatabaseError:
            logger.exception("run %s: could not record its failure", run.pk)

    def _owner_to_error(self, run: RunBase, kind: str, message: str) -> None:
        owner_model = type(run.owner)
        old = owner_model.objects.filter(pk=run.owner_id).values_list("status", flat=True).first()
        if old not in owner_model.running_statuses():
            return  # deactivated while the run went on: it stays inactive
        owner_model.objects.filter(pk=run.owner_id).update(
            status=owner_model.Status.ERROR, status_message=message[:500], error_kind=kind
        )
        if old != owner_model.Status.ERROR:
            owner = owner_model.objects.get(pk=run.owner_id)
            send_after_commit(
                owner_status_changed,
                sender=owner_model,
                owner=owner,
                old=old,
                new=owner_model.Status.ERROR,
            )


def owner_secrets(owner: Any) -> tuple[str, ...]:
    """The values of the owner's encrypted fields (client secret, API password, token...): the
    run's log lines hide them."""
    fields = (f for f in owner._meta.concrete_fields if isinstance(f, EncryptedTextField))
    values = (getattr(owner, field.attname) for field in fields)  # decrypted when loaded
    return tuple(value for value in values if isinstance(value, str) and value)


def owner_error_kind(exc: ApiError) -> str:
    """The `ErrorKind` an upstream failure puts its owner in ("" when the owner is not at
    fault and the service is fine, e.g. one refused request)."""
    if isinstance(exc, AuthError | ConfigError | NotFound):
        return ErrorKind.CREDENTIALS
    if isinstance(exc, Unavailable):
        return ErrorKind.UNAVAILABLE
    if isinstance(exc, BadResponse):
        return ErrorKind.BAD_RESPONSE
    return ErrorKind.NONE


def run_enqueue(*, task_name: str, run: RunBase, countdown: float | None = None) -> None:
    """Send `run` to the worker task registered as `task_name`. The task is looked up by name
    in Celery's registry: the code that requests a run never imports the task module that
    executes it (no import cycle)."""
    task = task_named(task_name)
    task.apply_async(
        args=[run.pk], task_id=run.task_id or None, countdown=countdown, **RUN_MESSAGE_OPTIONS
    )


def task_named(task_name: str) -> Any:
    """The Celery task registered as `task_name` (imported on first use)."""
    from celery import current_app

    task = current_app.tasks.get(task_name)
    if task is None:  # this process has not imported the task modules yet
        current_app.loader.import_default_modules()
        task = current_app.tasks[task_name]
    return task
