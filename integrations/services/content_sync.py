"""The daily content sync: courses (and public learning paths) into the group's catalog."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from catalog.models import Course
from integrations.core.errors import ApiError, AuthError, RetryLater
from integrations.core.jsoncodec import canonical
from integrations.core.runs import run_add_counts
from integrations.models import Integration, SyncPage, SyncRun
from integrations.providers.base import PageLike, Stream

from .catalog_upsert import StoredCourse, courses_lookup, courses_upsert_page
from .content_review import held_publish_or_keep, keep_flood_warning, run_warn
from .paging import map_every_item, map_page, run_stream, streams_declare, unlisted_by_ledger
from .planner import PlannerStatistics, analyze, refreshing

ARCHIVE_CHUNK = 500
# Listed again unchanged: nothing to write (a held or discarded item stays as it is).
VISIBLE_OR_HELD = (Course.Status.ACTIVE, Course.Status.HELD, Course.Status.DISCARDED)
NEVER_SHOWN = (Course.Status.HELD, Course.Status.DISCARDED)


def raw_fingerprint(raw: Any, revision: str) -> str:
    """SHA-256 of an upstream item as received (keys sorted: the order a server writes them in
    does not count) and of the mapping `revision` it would go through."""
    return hashlib.sha256(f"{revision}\n".encode() + canonical(raw)).hexdigest()


class ChangedItems:
    """Map and write only what changed: the page mapper and writer of one content stream.

    The mapper reads the stored rows of the page's ids (the one SELECT the upsert would make
    anyway) and sets aside each active item whose raw fingerprint is the stored one: it is
    counted unchanged and listed as seen, never mapped. Everything else (new, changed,
    archived, an id the raw item does not tell plainly) is mapped and upserted as before.
    A stream without `item_id` maps every item.
    """

    def __init__(self, *, integration: Integration, stream: Stream) -> None:
        self.integration, self.stream = integration, stream

    def map(self, *, stream: Stream, page: PageLike):
        if stream.item_id is None:
            return map_every_item(stream=stream, page=page)
        last_by_id = {}  # duplicates in a page: the last one is the one kept
        for raw in page.results:
            external_id = stream.item_id(raw)
            if external_id is not None:
                last_by_id[external_id] = raw
        known = courses_lookup(
            integration_id=self.integration.pk, kind=stream.kind, external_ids=last_by_id
        )
        raw_fingerprints: dict[str, str] = {}
        unchanged: list[str] = []
        to_map: list[Any] = []
        for raw in page.results:
            external_id = stream.item_id(raw)
            if external_id is None:
                to_map.append(raw)
                continue
            if last_by_id[external_id] is not raw:
                continue
            fingerprint = raw_fingerprint(raw, stream.revision)
            row = known.get(external_id)
            if (
                row is not None
                and row.raw_fingerprint == fingerprint
                and row.status in VISIBLE_OR_HELD
            ):
                unchanged.append(external_id)
            else:
                raw_fingerprints[external_id] = fingerprint
                to_map.append(raw)
        records, bad, seen = map_page(stream=stream, page=_Items(to_map))
        mapped = MappedRecords(records)
        mapped.known, mapped.looked_up, mapped.raw_fingerprints = (
            known, last_by_id.keys(), raw_fingerprints
        )  # fmt: skip
        return mapped, bad, unchanged + seen, {"unchanged": len(unchanged)}

    def write(self, records: list) -> dict[str, int]:
        counts = courses_upsert_page(
            integration_id=self.integration.pk,
            group_id=self.integration.group_id,
            kind=self.stream.kind,
            records=records,
            known=getattr(records, "known", None),
            looked_up=getattr(records, "looked_up", ()),
            raw_fingerprints=getattr(records, "raw_fingerprints", None),
        )
        return {
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "restored": counts.restored,
        }


class MappedRecords(list):
    """A page's records with what its mapping found out, for its writer: the stored rows of
    its ids (`known`, for the ids `looked_up`) and the raw fingerprints to store. Carried
    with the records, not kept by the mapper: the next page is mapped while this one is
    written (`pipeline.PageCommits`)."""

    known: dict[str, StoredCourse]
    looked_up: Collection[str]
    raw_fingerprints: dict[str, str]


class _Items:
    """Some items of a page, for `map_page` (which reads only `results`)."""

    def __init__(self, results: list) -> None:
        self.results = results


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
        items = ChangedItems(integration=integration, stream=stream)
        try:
            run_stream(
                run=run, stream=stream, writer=items.write, on_page=on_page, mapper=items.map
            )
        except RetryLater:
            raise  # throttled: the run resumes later, the decision is still to come
        except AuthError:
            _decide(run, "skipped", "the scan stopped: Udemy refused the credentials")
            _still_pending(run)
            raise  # the next stream would be refused just the same
        except ApiError as exc:
            # One stream gave up (after its retries): the next one is still attempted; the run
            # then closes with this error, and nothing is archived (the scan is incomplete).
            exc.message = f"{stream.label}: {exc.message}"
            failure = failure or exc
    if failure is not None:
        # New items stay held: an upstream failing half-way through a list is exactly the kind
        # of answer the flood guard is for, so only a complete scan publishes (or holds) them.
        _decide(run, "skipped", f"the scan is incomplete ({failure.message})")
        _still_pending(run)
        raise failure
    run.refresh_from_db()
    synced_kinds = {stream.kind for stream in streams}
    archive_missing(run=run, streams=streams)
    if Course.Kind.LEARNING_PATH not in synced_kinds:
        archive_disabled_paths(run=run)
    held_publish_or_keep(run=run)


def archive_missing(*, run: SyncRun, streams: list[Stream]) -> None:
    """Archive the courses a complete scan no longer lists, unless the scan can't be trusted.

    Guard (DESIGN promise): an empty or unstable scan archives nothing and says why. Items that
    failed to map were listed (`paging.map_page` counts them seen): they never hold it. A scan
    that would archive more than SYNC_ARCHIVE_MAX_SHARE of the published catalog archives
    nothing either, but that is a decision for an admin, not a silence: the absent courses are
    marked `missing_since`, the run ends with a warning, and the integration's review page
    offers to archive them or keep them (`content_review`).

    New items are held (`Course.Status.HELD`) until the scan ends, so the published catalog
    counted here is the one learners saw before the scan: a flood of new ids can't dilute it.
    Held items that this complete scan no longer lists were never shown: they are archived.
    """
    unstable = {
        entry.get("label", name): entry["unstable"]
        for name, entry in run.stream_progress.items()
        if entry.get("unstable")
    }
    if unstable:
        changes = ", ".join(f"{label} {change}" for label, change in unstable.items())
        _still_pending(run)
        return _decide(
            run,
            "skipped",
            f"the lists changed while they were read ({changes} items): the scan is unstable",
        )
    if run.fetched == 0:
        _still_pending(run)
        return _decide(run, "skipped", "the scan returned no item")
    unidentified = sum(int(e.get("unidentified") or 0) for e in run.stream_progress.values())
    if unidentified:
        # A failed item whose id can't be read may be any course: none is taken as gone.
        _still_pending(run)
        return _decide(
            run,
            "skipped",
            f"{unidentified} listed item(s) had no readable id: the scan can't tell which "
            "courses are gone",
        )
    analyze(SyncPage)  # the ledger of this run, for the anti-join below (see `planner`)
    absent_sets, held_sets, active_total = [], [], 0
    absent_total = never_shown_total = 0
    for stream in streams:
        of_kind = Course.objects.filter(integration=run.integration, kind=stream.kind)
        unlisted = unlisted_by_ledger(
            run=run, stream=stream.name, model=Course, field="external_id"
        )
        active = of_kind.filter(status=Course.Status.ACTIVE)
        absent_sets.append(active.filter(unlisted).order_by())
        held_sets.append(of_kind.filter(status__in=NEVER_SHOWN).filter(unlisted).order_by())
        active_total += active.count()
        # At most `cap` ids may be archived: count them first, never read the whole catalog.
        # Not "the first cap + 1 ids": under a LIMIT, PostgreSQL expects an absent id early and
        # plans a nested loop over every (course, listed id) pair — 4.9 s at 10,000 courses.
        # One count for the published and the never-shown items: one hash anti-join.
        counts = (
            of_kind.filter(status__in=(Course.Status.ACTIVE, *NEVER_SHOWN))
            .filter(unlisted)
            .aggregate(
                published=Count("id", filter=Q(status=Course.Status.ACTIVE)),
                never_shown=Count("id", filter=Q(status__in=NEVER_SHOWN)),
            )
        )
        absent_total += counts["published"]
        never_shown_total += counts["never_shown"]
    # This complete scan decides anew: what it listed again is no longer missing (what is
    # still absent keeps the date it went missing).
    for stream in streams:
        flagged = Course.objects.filter(
            integration=run.integration, kind=stream.kind, missing_since__isnull=False
        )
        if flagged.exists():  # an unchanged re-sync writes nothing
            unlisted = unlisted_by_ledger(
                run=run, stream=stream.name, model=Course, field="external_id"
            )
            flagged.exclude(unlisted).update(missing_since=None)
    never_shown: list[int] = []
    for held in held_sets if never_shown_total else ():
        never_shown += held.values_list("id", flat=True)
    _archive(run=run, ids=never_shown, counted=False)  # learners lost nothing
    share = settings.SYNC_ARCHIVE_MAX_SHARE
    cap = math.floor(share * active_total)
    dropped = f"; {len(never_shown)} new item(s) no longer listed dropped" if never_shown else ""
    if absent_total > cap:
        now = timezone.now()
        for absent in absent_sets:
            Course.objects.filter(pk__in=absent.values("pk"), missing_since__isnull=True).update(
                missing_since=now
            )
        message = (
            f"{absent_total} of the {active_total} published courses are no longer listed by "
            f"Udemy, more than the {share:.0%} a sync archives on its own: they stay visible "
            "until an admin reviews them (archive them or keep them)."
        )
        run_warn(run=run, code="cleanup_pending", message=message, count=absent_total)
        return _decide(run, "held", f"{message}{dropped}")
    to_archive: list[int] = []
    for absent in absent_sets:
        to_archive += absent.values_list("id", flat=True) if absent_total else []
    _archive(run=run, ids=to_archive)
    return _decide(
        run, "applied", f"{len(to_archive)} item(s) absent from a complete scan archived{dropped}"
    )


def _still_pending(run: SyncRun) -> None:
    """A scan that decides nothing leaves the earlier decisions pending: its run says so (it is
    no green "Succeeded" while courses wait for the admin)."""
    missing = Course.missing_for(run.integration_id).count()
    if missing:
        run_warn(
            run=run,
            code="cleanup_pending",
            count=missing,
            message=f"{missing} published courses are no longer listed by Udemy and still wait "
            "for an admin's review (archive them or keep them).",
        )
    keep_flood_warning(run=run)


def archive_disabled_paths(*, run: SyncRun) -> None:
    """Learning paths sync turned off: the paths already synced are kept, archived (said on
    the run's archival card beside the scan's own decision)."""
    ids = list(
        Course.objects.filter(
            integration=run.integration,
            kind=Course.Kind.LEARNING_PATH,
            status__in=VISIBLE_OR_HELD,
        ).values_list("id", flat=True)
    )
    _archive(run=run, ids=ids)
    if ids:
        run.archival_reason = (
            f"{run.archival_reason}; {len(ids)} learning path(s) archived because learning "
            "paths synchronization is off"
        )[:500]
        run.save(update_fields=["archival_reason"])


def _archive(*, run: SyncRun, ids: list[int], counted: bool = True) -> None:
    now = timezone.now()
    for start in range(0, len(ids), ARCHIVE_CHUNK):
        Course.objects.filter(pk__in=ids[start : start + ARCHIVE_CHUNK]).update(
            status=Course.Status.ARCHIVED, archived_at=now, updated_at=now, held_since=None
        )
    if counted:
        run_add_counts(run=run, archived=len(ids))


def _decide(run: SyncRun, decision: str, reason: str) -> None:
    run.archival_decision = decision
    run.archival_reason = reason[:500]
    run.save(update_fields=["archival_decision", "archival_reason"])
