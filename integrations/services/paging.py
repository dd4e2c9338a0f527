"""Run a stream page by page: map items, hand records to a writer, checkpoint in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Model
from django.db.models.expressions import RawSQL

from integrations.core.bulk_writes import insert_rows
from integrations.core.records import MappingError
from integrations.core.runs import BadItem
from integrations.core.transactions import batched_transaction
from integrations.models import SyncPage, SyncRun
from integrations.providers.base import PageLike, Stream

from .pipeline import pipeline_run
from .sync_errors import record_bad_items

# writer(records) -> dict of counter increments; runs inside the page's transaction.
PageWriter = Callable[[list[Any]], dict[str, int]]
# mapper(stream=, page=) -> (records, bad items, external ids seen, counter increments).
PageMapper = Callable[..., tuple[list[Any], list[BadItem], list[str], dict[str, int]]]


def map_page(*, stream: Stream, page: PageLike) -> tuple[list[Any], list[BadItem], list[str]]:
    """Map every item; a bad item is set aside (recorded with the page) and the others go on."""
    records, bad, seen = [], [], []
    for raw in page.results:
        try:
            record = stream.map_item(raw)
        except MappingError as exc:
            bad.append((exc, raw))
            # An item that failed to map was still listed: it is not absent from the scan, so
            # it never makes the archival of the absent ones wait.
            if (listed := _listed_id(stream, raw)) is not None:
                seen.append(listed)
            continue
        records.append(record)
        external_id = getattr(record, "external_id", None)
        if external_id is not None:
            seen.append(external_id)
    return records, bad, seen


def _listed_id(stream: Stream, raw: Any) -> str | None:
    """The catalog id of an item the mapping refused, when the stream can tell it (streams
    without `item_id`, the statistics, keep no list of what they saw)."""
    if stream.item_id is None:
        return None
    try:
        return stream.item_id(raw)
    except Exception:  # a hostile item: no id to tell
        return None


def _unidentified(stream: Stream, bad: list[BadItem]) -> int:
    """How many refused items of a catalog stream have no id to tell (0 for other streams)."""
    if not bad or stream.item_id is None:
        return 0
    return sum(1 for _, raw in bad if _listed_id(stream, raw) is None)


def map_every_item(*, stream: Stream, page: PageLike):
    """The default `PageMapper`: every item of the page is mapped."""
    return (*map_page(stream=stream, page=page), {})


def _new_entry(stream: Stream) -> dict:
    return {"label": stream.label, "done": 0, "total": None, "complete": False}


def streams_declare(*, run: SyncRun, streams: list[Stream]) -> None:
    """List every stream of the run in its progress from the start (a resumed run keeps what
    it recorded), so a stream not reached yet shows as such instead of being left out."""
    progress = dict(run.stream_progress or {})
    previous = _previous_totals(run) if any(s.name not in progress for s in streams) else {}
    for stream in streams:
        entry = progress.setdefault(stream.name, _new_entry(stream))
        if stream.name in previous:
            # What the last run of this kind read: the stream's weight in the progress until
            # its first page tells its own total (`SyncRun.progress_percent`).
            entry.setdefault("expected", previous[stream.name])
    if progress != run.stream_progress:
        run.stream_progress = progress
        SyncRun.objects.filter(pk=run.pk).update(stream_progress=progress)


def _previous_totals(run: SyncRun) -> dict[str, int]:
    """The streams' totals of the integration's last finished run of this kind."""
    last = (
        SyncRun.objects.filter(
            integration_id=run.integration_id, kind=run.kind, status__in=SyncRun.FINISHED
        )
        .exclude(pk=run.pk)
        .exclude(status=SyncRun.Status.SKIPPED)
        .order_by("-created_at", "-id")
        .values_list("stream_progress", flat=True)
        .first()
    )
    return {
        name: int(entry["total"])
        for name, entry in (last or {}).items()
        if isinstance(entry, dict) and isinstance(entry.get("total"), int)
    }


def run_stream(
    *,
    run: SyncRun,
    stream: Stream,
    writer: PageWriter,
    on_page: Callable[[], None] | None = None,
    mapper: PageMapper = map_every_item,
    until: int | None = None,
) -> None:
    """Drain `stream` from the run's checkpoint on; each page commits atomically with it.
    `until`: stop after that page (the stream is not complete yet)."""
    start = int(run.checkpoint.get(stream.name, 0)) + 1
    counted_total = stream.name in run.checkpoint
    entry = run.stream_progress.setdefault(stream.name, _new_entry(stream))
    # The account's budget is claimed here, in the thread that owns the database connection
    # (its database backend is a row), before the prefetch thread sends the first request;
    # what it grants caps the client's throttle (`core.throttle`).
    share = stream.budget() if stream.budget else None
    # The pipeline's threads (`services/pipeline.py`): the prefetch only fetches, mapping here
    # overlaps it instead of adding to each fetch, and the writer commits behind the mapping.
    upstream = stream.pages(start) if until is None else stream.page_range(start, until)

    def commit(page: PageLike, mapped: tuple) -> None:
        """The page's writes, ledger row, checkpoint and counters: one transaction."""
        nonlocal counted_total
        records, bad, seen, mapped_counts = mapped
        if not counted_total and page.count is not None:
            _add_total(run=run, count=page.count)
            counted_total = True
            entry["total"] = page.count
        elif page.count is not None and entry.get("total") not in (None, page.count):
            # The list changed while it was read: pages by number may have skipped or
            # repeated items. Recorded; the archival refuses such a scan.
            entry["unstable"] = f"{entry['total']} → {page.count}"
        with batched_transaction():  # the page's writes in one round trip, then its commit
            counts = writer(records)
            for name, value in mapped_counts.items():
                counts[name] = counts.get(name, 0) + value
            ledger_write(run=run, stream=stream.name, number=page.number, seen=seen)
            run.checkpoint[stream.name] = page.number
            entry["done"] = entry.get("done", 0) + len(page.results)
            # Failed items whose id can't be read: the archival can't tell what is gone.
            if unread := _unidentified(stream, bad):
                entry["unidentified"] = entry.get("unidentified", 0) + unread
            record_bad_items(  # counters, checkpoint and progress: one UPDATE
                run=run,
                bad=bad,
                fields={"checkpoint": run.checkpoint, "stream_progress": run.stream_progress},
                fetched=len(page.results),
                progress_done=len(page.results),
                **counts,
            )

    def after() -> None:
        """Once a page is committed, on the task's thread: the run's per-page hooks (lease,
        time slice, progress, planner statistics), then the shared budget's."""
        if on_page:
            on_page()
        if share:
            share.page_done()

    with share or nullcontext():
        pipeline_run(
            upstream,
            item_id=stream.item_id,
            mapper=lambda page: mapper(stream=stream, page=page),
            commit=commit,
            after=after,
        )
    if until is not None:
        return
    entry["complete"] = True  # the last page is read: whatever the count said, it is done
    entry["total"] = max(entry.get("total") or 0, entry.get("done", 0))
    SyncRun.objects.filter(pk=run.pk).update(stream_progress=run.stream_progress)


def ledger_write(*, run: SyncRun, stream: str, number: int, seen: list[str]) -> None:
    """The page's row of the ledger in one statement (a page read again replaces its row)."""
    insert_rows(
        SyncPage,
        [{"run_id": run.pk, "stream": stream, "number": number, "external_ids": seen}],
        unique_fields=["run", "stream", "number"],
        update_fields=["external_ids"],
        returning=False,
    )


def _add_total(*, run: SyncRun, count: int) -> None:
    run.progress_total = (run.progress_total or 0) + count
    SyncRun.objects.filter(pk=run.pk).update(progress_total=run.progress_total)


def unlisted_by_ledger(*, run: SyncRun, stream: str, model: type[Model], field: str) -> RawSQL:
    """A condition on rows of `model`: true when no page of the run's `stream` listed the row's
    `field`. The database expands the ledger's id lists and does the anti-join, so the sync's
    memory stays flat whatever the catalog size. Identifiers come from the models' metadata,
    values are parameters."""
    quote = connection.ops.quote_name
    pages = quote(SyncPage._meta.db_table)
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(field).column)}"
    # Only identifiers are interpolated (quoted, from model metadata); values are parameters.
    if connection.vendor == "postgresql":
        # NOT EXISTS: a hash anti-join that spills to disk if it must (NOT IN would degrade to a
        # nested loop once the ids outgrow work_mem).
        sql = (
            f"NOT EXISTS (SELECT 1 FROM {pages} p CROSS JOIN LATERAL "  # noqa: S608 # nosec B608
            "jsonb_array_elements_text(p.external_ids) AS e(id) "
            f"WHERE p.run_id = %s AND p.stream = %s AND e.id = {column})"
        )
    else:
        # NOT IN: SQLite materializes the uncorrelated subquery into a temporary index once.
        sql = (
            f"{column} NOT IN (SELECT e.value FROM {pages} p, "  # noqa: S608 # nosec B608
            "json_each(p.external_ids) e WHERE p.run_id = %s AND p.stream = %s)"
        )
    return RawSQL(sql, (run.pk, stream), output_field=BooleanField())  # noqa: S611 # nosec
