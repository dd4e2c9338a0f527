"""The daily content sync: courses (and public learning paths) into the group's catalog."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.utils import timezone

from integrations.core.errors import ApiError, AuthError, RetryLater
from integrations.core.runs import run_add_counts
from integrations.models import Integration, SyncRun
from integrations.providers.base import Stream
from lmsbridge.catalog.models import Course

from .catalog_upsert import courses_upsert_page
from .paging import run_stream, streams_declare, unlisted_by_ledger
from .planner import PlannerStatistics, refreshing

ARCHIVE_CHUNK = 500


def _write_courses(records: list, *, integration: Integration, kind: str) -> dict[str, int]:
    counts = courses_upsert_page(
        integration_id=integration.pk, group_id=integration.group_id, kind=kind, records=records
    )
    return {
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "restored": counts.restored,
    }


def content_sync(
    *,
    run: SyncRun,
    streams: list[Stream],
    on_page: Callable[[], None] | None = None,
) -> None:
    """Drain every stream, then archive what a complete, error-free scan no longer lists.

    Raises whatever the client raises (the caller closes the run); pages already committed stay.
    """
    integration = run.integration
    statistics = PlannerStatistics(Course, Course.tags.through)
    on_page = refreshing(on_page, statistics, lambda: run.created + run.restored)
    failure: ApiError | None = None
    streams_declare(run=run, streams=streams)
    for stream in streams:
        writer = partial(_write_courses, integration=integration, kind=stream.kind)
        try:
            run_stream(run=run, stream=stream, writer=writer, on_page=on_page)
        except RetryLater:
            raise  # throttled: the run resumes later, the decision is still to come
        except AuthError:
            _decide(run, "skipped", "the scan stopped: Udemy refused the credentials")
            raise  # the next stream would be refused just the same
        except ApiError as exc:
            # One stream gave up (after its retries): the next one is still attempted; the run
            # then closes with this error, and nothing is archived (the scan is incomplete).
            exc.message = f"{stream.label}: {exc.message}"
            failure = failure or exc
    if failure is not None:
        _decide(run, "skipped", f"the scan is incomplete ({failure.message})")
        raise failure
    run.refresh_from_db()
    synced_kinds = {stream.kind for stream in streams}
    archive_missing(run=run, streams=streams)
    if Course.Kind.LEARNING_PATH not in synced_kinds:
        archive_disabled_paths(run=run)


def archive_missing(*, run: SyncRun, streams: list[Stream]) -> None:
    """Archive active items absent from the scan, unless the scan can't be trusted.

    Guard (DESIGN promise): an empty, failed or item-erroring scan, or one that would archive more
    than SYNC_ARCHIVE_MAX_SHARE of the catalog as it was before the scan, archives nothing and
    says why.
    """
    if run.failed:
        return _decide(run, "skipped", f"{run.failed} item(s) failed: the scan is not error-free")
    unstable = {
        entry.get("label", name): entry["unstable"]
        for name, entry in run.stream_progress.items()
        if entry.get("unstable")
    }
    if unstable:
        changes = ", ".join(f"{label} {change}" for label, change in unstable.items())
        return _decide(
            run,
            "skipped",
            f"the lists changed while they were read ({changes} items): the scan is unstable",
        )
    if run.fetched == 0:
        return _decide(run, "skipped", "the scan returned no item")
    absent_sets, active_total = [], 0
    for stream in streams:
        active = Course.objects.filter(
            integration=run.integration, kind=stream.kind, status=Course.Status.ACTIVE
        )
        absent_sets.append(
            active.filter(
                unlisted_by_ledger(run=run, stream=stream.name, model=Course, field="external_id")
            ).order_by()
        )
        active_total += active.count()
    # The catalog as it was before this scan: what the scan created or restored does not count,
    # or a flood of new ids would let it archive every item that was there.
    active_total = max(0, active_total - run.created - run.restored)
    share = settings.SYNC_ARCHIVE_MAX_SHARE
    # At most `cap` ids may be archived: fetch one more to know, never the whole catalog.
    cap = math.floor(share * active_total)
    to_archive: list[int] = []
    for absent in absent_sets:
        to_archive += absent.values_list("id", flat=True)[: cap + 1 - len(to_archive)]
    if len(to_archive) > cap:
        absent_total = sum(absent.count() for absent in absent_sets)  # for the message only
        return _decide(
            run,
            "skipped",
            f"{absent_total} of {active_total} items would be archived, more than "
            f"{share:.0%} (SYNC_ARCHIVE_MAX_SHARE): nothing archived",
        )
    _archive(run=run, ids=to_archive)
    return _decide(run, "applied", f"{len(to_archive)} item(s) absent from a complete scan")


def archive_disabled_paths(*, run: SyncRun) -> None:
    """Learning paths sync turned off: the paths already synced are kept, archived."""
    ids = list(
        Course.objects.filter(
            integration=run.integration,
            kind=Course.Kind.LEARNING_PATH,
            status=Course.Status.ACTIVE,
        ).values_list("id", flat=True)
    )
    _archive(run=run, ids=ids)


def _archive(*, run: SyncRun, ids: list[int]) -> None:
    now = timezone.now()
    for start in range(0, len(ids), ARCHIVE_CHUNK):
        Course.objects.filter(pk__in=ids[start : start + ARCHIVE_CHUNK]).update(
            status=Course.Status.ARCHIVED, archived_at=now, updated_at=now
        )
    run_add_counts(run=run, archived=len(ids))


def _decide(run: SyncRun, decision: str, reason: str) -> None:
    run.archival_decision = decision
    run.archival_reason = reason[:500]
    run.save(update_fields=["archival_decision", "archival_reason"])
