"""Requesting runs, for every run model built on `core.models.RunBase`: one run (created, audited
when a person or the API asked, skipped when one of its kind is already busy, else enqueued once
the transaction commits) and the daily scheduled runs of every owner that accepts them.

A Udemy sync (`services.sync`) and a platform run (`services.platform_runs`) differ only in what
they pass: their run model's extra fields, the audit action, what counts as busy.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from integrations.core.audit import audit_record
from integrations.core.models import OwnerBase, RunBase
from integrations.core.reaper import runs_reap
from integrations.core.runs import run_skip

logger = logging.getLogger(__name__)


def run_request(
    *,
    owner: OwnerBase,
    kind: str,
    trigger: str,
    user: Any = None,
    audit: tuple[type, str] | None,
    busy: Callable[[RunBase], bool] | None,
    busy_reason: Callable[[RunBase], str],
    enqueue: Callable[[RunBase], None] | None,
    **fields: Any,
) -> RunBase:
    """Create a run of `owner` (`fields`: its model's own columns) and enqueue it after commit.

    `audit`: (audit model, action), recorded when the trigger is a person or the API. `busy`
    tells whether another run makes this one redundant (None: no check, no skip); a busy run
    is recorded as skipped with `busy_reason(run)` and nothing is enqueued. `enqueue` None:
    the caller executes the run itself (a dry run)."""
    model = owner.runs.model
    with transaction.atomic():
        runs_reap(model, **{model.OWNER: owner, "kind": kind})  # a dead worker's run is closed
        run = model.objects.create(
            **{model.OWNER: owner},
            kind=kind,
            trigger=trigger,
            triggered_by=user if user is not None and user.is_authenticated else None,
            task_id=uuid.uuid4().hex,
            **fields,
        )
        if audit is not None and trigger in (model.Trigger.MANUAL, model.Trigger.API):
            audit_model, action = audit
            audit_record(
                audit_model,
                **{model.OWNER: owner},
                actor=user,
                action=action,
                detail=f"run {run.pk}",
            )
        if busy is not None and busy(run):
            run_skip(run=run, reason=busy_reason(run))
            return run
        if enqueue is not None:
            transaction.on_commit(partial(enqueue, run))
    return run


def other_run_busy(run: RunBase, statuses: Iterable[str] | None = None, **filters: Any) -> bool:
    """Another run of the same owner and kind is in `statuses` (default: queued or running)."""
    model = type(run)
    return (
        model.objects.filter(
            **{f"{model.OWNER}_id": run.owner_id},
            kind=run.kind,
            status__in=list(statuses or model.BUSY),
            **filters,
        )
        .exclude(pk=run.pk)
        .exists()
    )


def runs_request_daily(
    owners: Iterable[OwnerBase],
    kinds: Callable[[OwnerBase], Iterable[str]],
    request: Callable[[OwnerBase, str], RunBase],
    *,
    log_already: str,
) -> list[RunBase]:
    """A beat entry point's runs: for each owner, one run of each of its `kinds` through
    `request(owner, kind)` (which sets `scheduled_for`). A unique guard keeps a double beat tick
    to one run per owner, kind and day (and slot): the second request is logged
    (`log_already % (kind, owner.pk)`) and dropped."""
    runs = []
    for owner in owners:
        for kind in kinds(owner):
            try:
                with transaction.atomic():
                    runs.append(request(owner, kind))
            except IntegrityError:
                logger.info(log_already, kind, owner.pk)
    return runs
