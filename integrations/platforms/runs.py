"""What a PlatformRun records beyond the core bookkeeping (`integrations.core.runs`): counts per
stream and the client's write requests and rate-limit waits."""

from __future__ import annotations

from django.db.models import F

from integrations.core.runs import run_add_counts
from integrations.models import PlatformRun


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
