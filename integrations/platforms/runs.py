"""PlatformRun bookkeeping (start, count, record errors, finish) and the per-connection lease.

The lease is the Udemy one (`integrations/services/lease.py`) for connections: one conditional
`UPDATE … WHERE holder = me OR expires_at < now`, atomic on SQLite (where `select_for_update` is
a no-op) and PostgreSQL alike. The holder is the run, so a redelivered task re-takes its lease.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from integrations.models import PlatformConnection, PlatformError, PlatformLease, PlatformRun

LEASE_TTL = timedelta(minutes=10)
EXCERPT_LIMIT = 300
COUNTERS = (
    "fetched",
    "created",
    "updated",
    "unchanged",
    "removed",
    "deactivated",
    "failed",
    "pending",
    "write_requests",
)


# --------------------------------------------------------------------------- lease


def lease_acquire(*, connection: PlatformConnection, kind: str, holder: str) -> bool:
    lease, _ = PlatformLease.objects.get_or_create(connection=connection, kind=kind)
    now = timezone.now()
    taken = (
        PlatformLease.objects.filter(pk=lease.pk)
        .filter(Q(holder=holder) | Q(holder="") | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=now + LEASE_TTL)
    )
    return taken == 1


def lease_renew(*, connection: PlatformConnection, kind: str, holder: str) -> bool:
    return (
        PlatformLease.objects.filter(connection=connection, kind=kind, holder=holder).update(
            expires_at=timezone.now() + LEASE_TTL
        )
        == 1
    )


def lease_release(*, connection: PlatformConnection, kind: str, holder: str) -> None:
    PlatformLease.objects.filter(connection=connection, kind=kind, holder=holder).update(
        holder="", expires_at=None
    )


# --------------------------------------------------------------------------- runs


def run_add_counts(*, run: PlatformRun, **counts: int) -> None:
    """Add to the run's counters in one UPDATE (atomic increments)."""
    deltas = {name: value for name, value in counts.items() if value}
    if not deltas:
        return
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters {sorted(unknown)}")
    PlatformRun.objects.filter(pk=run.pk).update(**{k: F(k) + v for k, v in deltas.items()})
    for name, value in deltas.items():
        setattr(run, name, getattr(run, name) + value)


def run_set_details(*, run: PlatformRun, stream: str, **counts: int) -> None:
    """Per-stream counts shown on the run page, e.g. details["users"] = {"created": 3}."""
    run.details[stream] = {**run.details.get(stream, {}), **counts}
    PlatformRun.objects.filter(pk=run.pk).update(details=run.details)


def run_start(*, run: PlatformRun) -> None:
    run.status = PlatformRun.Status.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["status", "started_at"])


def run_finish(*, run: PlatformRun, status: str, summary: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    if summary:
        run.error_summary = summary[:2000]
    run.save(update_fields=["status", "finished_at", "error_summary"])


def run_skip(*, run: PlatformRun, reason: str) -> None:
    now = timezone.now()
    run.status = PlatformRun.Status.SKIPPED
    run.started_at = run.started_at or now
    run.finished_at = now
    run.error_summary = reason
    run.save(update_fields=["status", "started_at", "finished_at", "error_summary"])


def run_record_error(
    *, run: PlatformRun, category: str, message: str, external_id: str = "", excerpt: str = ""
) -> PlatformError:
    return PlatformError.objects.create(
        run=run,
        external_id=str(external_id)[:100],
        category=category[:50],
        message=message[:1000],
        excerpt=excerpt[:EXCERPT_LIMIT],
    )


def run_record_client(*, run: PlatformRun, client) -> None:
    """Add the client's write requests and waits (a rescheduled run adds up its attempts)."""
    writes = getattr(client, "write_count", 0)
    waits = list(getattr(client, "waits", ()))
    if writes:
        run_add_counts(run=run, write_requests=writes)
    if waits:
        PlatformRun.objects.filter(pk=run.pk).update(
            waited_seconds=F("waited_seconds") + sum(waits)
        )
        run.waited_seconds += sum(waits)
        before = run.details.get("throttle", {})
        run_set_details(
            run=run,
            stream="throttle",
            waits=before.get("waits", 0) + len(waits),
            seconds=round(run.waited_seconds, 3),
        )


def outcome_status(*, run: PlatformRun, complete: bool) -> str:
    if not complete and run.fetched == 0 and run.created == 0 and run.updated == 0:
        return PlatformRun.Status.FAILED
    if run.failed or not complete:
        return PlatformRun.Status.PARTIAL
    return PlatformRun.Status.SUCCEEDED
