"""Run a stream page by page: map items, hand records to a writer, checkpoint in one transaction."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, nullcontext
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import BooleanField, Model
from django.db.models.expressions import RawSQL

from integrations.core.bulk import bulk_insert
from integrations.core.records import MappingError
from integrations.core.runs import BadItem, run_record_bad_items
from integrations.models import SyncPage, SyncRun
from integrations.providers.base import PageLike, Stream

T = TypeVar("T")
PREFETCH_DEPTH = 2

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
            continue
        records.append(record)
        external_id = getattr(record, "external_id", None)
        if external_id is not None:
            seen.append(external_id)
    return records, bad, seen


def map_every_item(*, stream: Stream, page: PageLike):
    """The default `PageMapper`: every item of the page is mapped."""
    return (*map_page(stream=stream, page=page), {})


def prefetched(items: Iterator[T], *, depth: int = PREFETCH_DEPTH) -> Iterator[T]:
    """Produce `items` from a background thread, up to `depth` ahead of the consumer.

    A sync is bound by upstream latency: while the main thread maps and writes page N, the next
    pages are already being fetched (HTTP and the database both release the GIL). The thread
    never touches the ORM. Errors are re-raised in the consumer, in order.
    """
    channel: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                channel.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    break
            else:
                put(("end", None))
        except BaseException as exc:
            put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = channel.get()
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        stop.set()
        thread.join(timeout=30)


def _new_entry(stream: Stream) -> dict:
    return {"label": stream.label, "done": 0, "total": None, "complete": False}


def streams_declare(*, run: SyncRun, streams: list[Stream]) -> None:
    """List every stream of the run in its progress from the start (a resumed run keeps what
    it recorded), so a stream not reached yet shows as such instead of being left out."""
    progress = dict(run.stream_progress or {})
    for stream in streams:
        progress.setdefault(stream.name, _new_entry(stream))
    if progress != run.stream_progress:
        run.stream_progress = progress
        SyncRun.objects.filter(pk=run.pk).update(stream_progress=progress)


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
    # (its database backend is a row), before the prefetch thread sends the first request.
    share = stream.budget() if stream.budget else None
    # The thread only fetches: mapping here overlaps it instead of adding to each fetch.
    # `closing`: a run that stops between pages (its time slice is used) ends the prefetch now.
    upstream = stream.pages(start) if until is None else stream.page_range(start, until)
    with share or nullcontext(), closing(prefetched(upstream)) as pages:
        for page in pages:
            records, bad, seen, mapped_counts = mapper(stream=stream, page=page)
            if not counted_total and page.count is not None:
                _add_total(run=run, count=page.count)
                counted_total = True
                entry["total"] = page.count
            elif page.count is not None and entry.get("total") not in (None, page.count):
                # The list changed while it was read: pages by number may have skipped or
                # repeated items. Recorded; the archival refuses such a scan.
                entry["unstable"] = f"{entry['total']} → {page.count}"
            with transaction.atomic():
                counts = writer(records)
                for name, value in mapped_counts.items():
                    counts[name] = counts.get(name, 0) + value
                ledger_write(run=run, stream=stream.name, number=page.number, seen=seen)
                run.checkpoint[stream.name] = page.number
                entry["done"] = entry.get("done", 0) + len(page.results)
                run_record_bad_items(  # counters, checkpoint and progress: one UPDATE
                    run=run,
                    bad=bad,
                    fields={"checkpoint": run.checkpoint, "stream_progress": run.stream_progress},
                    fetched=len(page.results),
                    progress_done=len(page.results),
                    **counts,
                )
            if on_page:
                on_page()
            if share:
                share.page_done()
    if until is not None:
        return
    entry["complete"] = True  # the last page is read: whatever the count said, it is done
    entry["total"] = max(entry.get("total") or 0, entry.get("done", 0))
    SyncRun.objects.filter(pk=run.pk).update(stream_progress=run.stream_progress)


def ledger_write(*, run: SyncRun, stream: str, number: int, seen: list[str]) -> None:
    """The page's row of the ledger in one statement (a page read again replaces its row)."""
    bulk_insert(
        [SyncPage(run=run, stream=stream, number=number, external_ids=seen)],
        unique_fields=["run", "stream", "number"],
        update_fields=["external_ids"],
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
