"""Run bookkeeping (start, count, record errors, finish) for every run model built on
`core.models.RunBase`: `SyncRun` (Udemy syncs), `PlatformRun` (learning-platform connectors)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import connections, transaction
from django.dispatch import Signal
from django.utils import timezone

from integrations.core import metrics
from integrations.core.bulk_writes import update_one
from integrations.core.events import run_ended
from integrations.core.models import RunBase, RunStatus
from integrations.core.records import MappingError

Run = RunBase
logger = logging.getLogger(__name__)

EXCERPT_LIMIT = 300


def run_add_counts(*, run: Run, fields: Mapping[str, Any] | None = None, **counts: int) -> None:
    """Add to the run's counters in one UPDATE (atomic increments, safe against re-reads);
    `fields`: other columns set by the same statement (a page's checkpoint and progress)."""
    deltas = {name: value for name, value in counts.items() if value}
    if not deltas and not fields:
        return
    model = type(run)
    unknown = set(deltas) - set(model.COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters {sorted(unknown)}")
    update_one(model, run.pk, values=fields, add=deltas)
    for name, value in deltas.items():
        setattr(run, name, getattr(run, name) + value)
    if deltas:
        transaction.on_commit(metrics.run_items(run, deltas))


def run_start(*, run: Run) -> None:
    run.status = type(run).Status.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.waiting_until, run.waiting_reason = None, ""
    run.save(update_fields=["status", "started_at", "waiting_until", "waiting_reason"])


def run_wait(*, run: Run, seconds: float, reason: str) -> None:
    """The run continues in `seconds` (its task was rescheduled): say until when, and why."""
    run.waiting_until = timezone.now() + timedelta(seconds=seconds)
    run.waiting_reason = reason[:300]
    run.save(update_fields=["waiting_until", "waiting_reason"])


_RETRY = re.compile(r": (?P<what>[^:]*), retry (?P<n>\d+)/(?P<of>\d+)$")


def wait_words(vendor: str, why: str, seconds: float, reason: str) -> str:
    """A client's wait in an admin's words ("Udemy unreachable (connection refused) — retry
    3 of 6, next in 8 s"; "LearnUpon allows few more requests this minute — next in 4 s")."""
    match = _RETRY.search(why)
    if reason == "throttle":  # LearnUpon's requests-per-minute header ran low
        text = f"{vendor} allows few more requests this minute — next in {seconds:.0f} s"
    elif reason == "poll":  # an export the platform is still preparing
        text = f"{vendor} is still preparing a report ({why}) — checking again in {seconds:.0f} s"
    elif match and reason in ("retry", "rate_limit"):
        # A network reason reads as such ("connection refused"); an HTTP status code alone is
        # for the IT team (the logs have it), not the run page.
        cause = "" if match["what"].strip().isdigit() else f" ({match['what']})"
        what = (
            f"{vendor} unreachable or failing{cause}"
            if reason == "retry"
            else f"{vendor} asks to slow down"
        )
        text = f"{what} — retry {match['n']} of {match['of']}, next in {seconds:.0f} s"
    else:
        text = f"{vendor}: {why} — waiting {seconds:.0f} s"
    return text[:300]


def run_note_wait(*, run: Run, message: str, seconds: float) -> None:
    """Show a wait on the run page as it happens. Called from whichever thread waits (the
    fetch threads of a scan too): the UPDATE runs on a short-lived thread of its own, with its
    own connection, so the caller's connection and transaction are never touched, and a locked
    database delays the note (5 s at most), never the run."""
    until = timezone.now() + timedelta(seconds=seconds)

    def note() -> None:
        try:
            type(run).objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                waiting_until=until, waiting_reason=message[:300]
            )
        except Exception:
            logger.warning("run %s: wait not shown", run.pk, exc_info=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=note, name=f"run-{run.pk}-wait", daemon=True)
    thread.start()
    thread.join(timeout=5)


def run_give_up(*, run: Run, message: str) -> None:
    """Close a run that may not wait any longer as failed, saying why."""
    run_record_error(run=run, category="wait", message=message)
    run.waiting_until, run.waiting_reason = None, ""
    run.save(update_fields=["waiting_until", "waiting_reason"])
    run_finish(run=run, status=RunStatus.FAILED, summary=message)


def run_finish(*, run: Run, status: str, summary: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    if summary:
        run.error_summary = summary[:2000]
    run.save(update_fields=["status", "finished_at", "error_summary"])
    transaction.on_commit(metrics.run_finished(run))
    send_after_commit(run_ended, sender=type(run), run=run)


def send_after_commit(signal: Signal, **kwargs: Any) -> None:
    """Send `signal` once the current transaction commits (at once outside one). Receivers'
    errors are logged, never raised: what they follow has already happened."""

    def send() -> None:
        for receiver, result in signal.send_robust(**kwargs):
            if isinstance(result, Exception):
                logger.error("receiver %r failed: %r", receiver, result, exc_info=result)

    transaction.on_commit(send)


def run_skip(*, run: Run, reason: str) -> None:
    now = timezone.now()
    run.status = type(run).Status.SKIPPED
    run.started_at = run.started_at or now
    run.finished_at = now
    run.error_summary = reason
    run.save(update_fields=["status", "started_at", "finished_at", "error_summary"])
    transaction.on_commit(metrics.run_finished(run))


def run_record_error(
    *, run: Run, category: str, message: str, external_id: str = "", excerpt: str = ""
):
    return run.errors.create(
        external_id=str(external_id)[:100],
        category=category[:50],
        message=message[:1000],
        excerpt=excerpt[:EXCERPT_LIMIT],
    )


BadItem = tuple[MappingError, Any]  # what the mapping refused, and the raw item


def run_record_bad_items(
    *,
    run: Run,
    bad: list[BadItem],
    fields: Mapping[str, Any] | None = None,
    not_recorded: int = 0,
    **counts: int,
) -> None:
    """Record the items a mapping refused: one error row each (a single INSERT), then `failed`,
    with the page's other `counts` and `fields`, in one UPDATE. The other items go on.
    `not_recorded`: more refused items, counted in `failed` without a row each (a cap)."""
    if bad:
        model = run.errors.model
        model.objects.bulk_create(
            [
                model(
                    run=run,
                    external_id=str(exc.external_id)[:100],
                    category=exc.category[:50],
                    message=str(exc.message)[:1000],
                    excerpt=(exc.excerpt or repr(raw))[:EXCERPT_LIMIT],
                )
                for exc, raw in bad
            ]
        )
    run_add_counts(run=run, fields=fields, failed=len(bad) + not_recorded, **counts)


def outcome_status(*, run: Run, complete: bool) -> str:
    """succeeded (all items fine), partial (some failed or the scan is incomplete), failed (an
    incomplete run that got nothing through)."""
    if not complete and not (run.fetched or run.created or run.updated):
        return RunStatus.FAILED
    if run.failed or not complete:
        return RunStatus.PARTIAL
    return RunStatus.SUCCEEDED
