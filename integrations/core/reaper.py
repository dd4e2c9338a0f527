"""Closing runs whose worker is gone.

A run is *stuck* when it is "running", not waiting on a reschedule, and no live execution holds
its lease: the lease expired (nobody renewed it for `LEASE_TTL`: the worker host died or hung) or
its holder was a process of this host that no longer exists (a SIGKILLed worker whose message the
broker lost). Such a run is closed as failed ("worker lost"); its committed pages stay. Without
this, every later trigger would be skipped as "already running", forever.

A split run (`ranges`) whose ranges are all done has done its work: whoever finished the last
range closes it, and if that closer was lost too, the reaper closes it as the run's own task
would have, succeeded or partial from what the ranges counted — never failed.

The periodic task `reap_stuck_runs` calls `runs_reap` for every run model, and each trigger calls
it for its own owner and kind before it checks whether a run is already busy.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Q
from django.utils import timezone

from integrations.core import lease
from integrations.core.models import RunBase, RunStatus
from integrations.core.runs import outcome_status, run_finish, run_record_error

logger = logging.getLogger(__name__)
WORKER_LOST = (
    "The worker running this run stopped (killed, restarted or lost): the run was closed. "
    "Pages committed before stay; the next run starts again."
)


def run_is_stuck(run: RunBase) -> bool:
    if _ranges_worked(run):
        return False  # helpers of a split run work its ranges while its own task waits
    holder, seconds_left = lease.current(
        run.owner.leases.model, **{run.OWNER: run.owner_id, "kind": run.kind}
    )
    if lease.holder_run_id(holder) != run.pk or seconds_left <= 0:
        return True  # no execution of this run holds a live lease
    return lease.holder_is_dead(holder)


def _ranges_worked(run: RunBase) -> bool:
    """A live execution holds a lease on one of the run's page ranges (`run.ranges`: the runs
    whose work can be split)."""
    ranges = getattr(run, "ranges", None)
    if ranges is None:
        return False
    held = ranges.filter(expires_at__gt=timezone.now()).exclude(holder="")
    return any(not lease.holder_is_dead(h) for h in held.values_list("holder", flat=True))


def _ranges_all_done(run: RunBase) -> bool:
    ranges = getattr(run, "ranges", None)
    return ranges is not None and ranges.exists() and not ranges.filter(done=False).exists()


def _close_worked(run_model: type[RunBase], run: RunBase) -> bool:
    """Close a run whose work is all done (its ranges) as its own task would (one closer: the
    conditional UPDATE), with the status its counters give."""
    from integrations.core.execute import RunExecutor  # the executor imports the reaper's peers

    run.refresh_from_db()
    status = outcome_status(run=run, complete=True)
    updated = run_model.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=status, finished_at=timezone.now()
    )
    if updated:
        RunExecutor().succeed(run)
        logger.warning("run %s (%s) closed by the reaper: every range done", run.pk,
                       run_model.__name__)  # fmt: skip
    return bool(updated)


def runs_reap(run_model: type[RunBase], **scope: Any) -> list[RunBase]:
    """Close the stuck runs of `run_model` (optionally of one owner and kind)."""
    now = timezone.now()
    candidates = run_model.objects.filter(status=RunStatus.RUNNING, **scope).filter(
        Q(waiting_until__isnull=True) | Q(waiting_until__lt=now - lease.LEASE_TTL)
    )
    reaped = []
    for run in candidates.select_related(run_model.OWNER):
        if not run_is_stuck(run):
            continue
        if _ranges_all_done(run):
            if _close_worked(run_model, run):
                reaped.append(run)
            continue
        updated = run_model.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now()
        )  # only one reaper closes it
        if updated:
            run_record_error(run=run, category="worker_lost", message=WORKER_LOST)
            run_finish(run=run, status=RunStatus.FAILED, summary=WORKER_LOST)
            logger.warning("run %s (%s) closed: worker lost", run.pk, run_model.__name__)
            reaped.append(run)
    return reaped


def run_close(*, run: RunBase, actor: Any) -> bool:
    """A platform superuser closes a queued or running run by hand (a stuck run the reaper has
    not reached yet): failed, with who closed it; its lease is freed so the next trigger runs.
    Returns False when the run had already finished."""
    updated = (
        type(run)
        .objects.filter(pk=run.pk, status__in=RunBase.BUSY)
        .update(status=RunStatus.FAILED, finished_at=timezone.now())
    )
    if not updated:
        return False
    message = f"Closed by {actor.get_username()} from the console."
    run_record_error(run=run, category="closed", message=message)
    run_finish(run=run, status=RunStatus.FAILED, summary=message)
    run.owner.leases.filter(kind=run.kind, holder__startswith=f"run:{run.pk}:").update(
        holder="", expires_at=None
    )
    logger.warning("run %s (%s) closed by %s", run.pk, type(run).__name__, actor.get_username())
    return True
