"""PlatformRun bookkeeping (shared with SyncRun: `integrations/services/runs.py`) and the
per-connection lease.

The lease is the Udemy one (`integrations/services/lease.py`) for connections: one conditional
`UPDATE … WHERE holder = me OR expires_at < now`, atomic on SQLite (where `select_for_update` is
a no-op) and PostgreSQL alike; the holder names one execution of the run.
"""

from __future__ import annotations

from django.db.models import F

from integrations.models import PlatformConnection, PlatformLease, PlatformRun
from integrations.services import lease
from integrations.services.runs import (  # noqa: F401 - the bookkeeping of both run models
    EXCERPT_LIMIT,
    run_add_counts,
    run_finish,
    run_record_error,
    run_skip,
    run_start,
)

# --------------------------------------------------------------------------- lease


def lease_acquire(*, connection: PlatformConnection, kind: str, holder: str) -> bool:
    return lease.acquire(PlatformLease, connection=connection, kind=kind, holder=holder)


def lease_holder(*, connection: PlatformConnection, kind: str) -> tuple[str, float]:
    return lease.current(PlatformLease, connection=connection, kind=kind)


def lease_renew(*, connection: PlatformConnection, kind: str, holder: str) -> bool:
    return lease.renew(PlatformLease, connection=connection, kind=kind, holder=holder)


def lease_release(*, connection: PlatformConnection, kind: str, holder: str) -> None:
    lease.release(PlatformLease, connection=connection, kind=kind, holder=holder)


# --------------------------------------------------------------------------- runs


def run_set_details(*, run: PlatformRun, stream: str, **counts: int) -> None:
    """Per-stream counts shown on the run page, e.g. details["users"] = {"created": 3}."""
    run.details[stream] = {**run.details.get(stream, {}), **counts}
    PlatformRun.objects.filter(pk=run.pk).update(details=run.details)


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
