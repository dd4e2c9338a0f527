"""SyncRun bookkeeping: create, start, count, fail, finish."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from ..models import SyncError, SyncRun

COUNTERS = (
    "fetched",
    "created",
    "updated",
    "unchanged",
    "archived",
    "restored",
    "failed",
    "unmatched_learners",
    "anonymized",
    "pending",
    "progress_done",
)
EXCERPT_LIMIT = 300


def run_add_counts(*, run: SyncRun, **counts: int) -> None:
    """Add to the run's counters in one UPDATE (atomic increments, safe against re-reads)."""
    deltas = {name: value for name, value in counts.items() if value}
    if not deltas:
        return
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters {sorted(unknown)}")
    SyncRun.objects.filter(pk=run.pk).update(**{k: F(k) + v for k, v in deltas.items()})
    for name, value in deltas.items():
        setattr(run, name, getattr(run, name) + value)


def run_start(*, run: SyncRun) -> None:
    run.status = SyncRun.Status.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["status", "started_at"])


def run_finish(*, run: SyncRun, status: str, summary: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    if summary:
        run.error_summary = summary[:2000]
    run.save(update_fields=["status", "finished_at", "error_summary"])


def run_skip(*, run: SyncRun, reason: str) -> None:
    now = timezone.now()
    run.status = SyncRun.Status.SKIPPED
    run.started_at = run.started_at or now
    run.finished_at = now
    run.error_summary = reason
    run.save(update_fields=["status", "started_at", "finished_at", "error_summary"])


def run_record_error(
    *, run: SyncRun, category: str, message: str, external_id: str = "", excerpt: str = ""
) -> SyncError:
    return SyncError.objects.create(
        run=run,
        external_id=external_id[:100],
        category=category[:50],
        message=message[:1000],
        excerpt=excerpt[:EXCERPT_LIMIT],
    )


def outcome_status(*, run: SyncRun, complete: bool) -> str:
    """succeeded (all items fine), partial (some failed or scan incomplete), failed (nothing)."""
    if not complete and run.fetched == 0:
        return SyncRun.Status.FAILED
    if run.failed or not complete:
        return SyncRun.Status.PARTIAL
    return SyncRun.Status.SUCCEEDED
