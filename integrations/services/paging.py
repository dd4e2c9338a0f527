"""Run a stream page by page: map items, hand records to a writer, checkpoint in one transaction."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, nullcontext, suppress
from functools import partial
from typing import Any, TypeVar

from django.db import connection
from django.db.models import BooleanField, Model
from django.db.models.expressions import RawSQL

from integrations.core.bulk_writes import insert_rows
from integrations.core.records import MappingError
from integrations.core.runs import BadItem, run_record_bad_items
from integrations.core.transactions import batched_transaction, commits_relaxed, relax_commits_here
from integrations.models import SyncPage, SyncRun
from integrations.providers.base import PageLike, Stream

T = TypeVar("T")
PREFETCH_DEPTH = 2
WRITE_AHEAD = 2  # pages in the writer's hands at most (see `PageCommits`)

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
    # (its database backend is a row), before the prefetch thread sends the first request.
    share = stream.budget() if stream.budget else None
    # The thread only fetches: mapping here overlaps it instead of adding to each fetch.
    # `closing`: a run that stops between pages (its time slice is used) ends the prefetch now.
    upstream = stream.pages(start) if until is None else stream.page_range(start, until)

    def commit(page: PageLike, mapped: tuple) -> None:
        """The page's writes, ledger row, checkpoint and counters: one transaction, then the
        run's per-page hooks (lease, time slice, shared budget)."""
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

    with (
        share or nullcontext(),
        closing(prefetched(upstream)) as pages,
        PageCommits(item_id=stream.item_id) as commits,
    ):
        for page in pages:
            commits.before_mapping(page)
            mapped = mapper(stream=stream, page=page)
            commits.submit(partial(commit, page, mapped), seen=mapped[2])
    if until is not None:
        return
    entry["complete"] = True  # the last page is read: whatever the count said, it is done
    entry["total"] = max(entry.get("total") or 0, entry.get("done", 0))
    SyncRun.objects.filter(pk=run.pk).update(stream_progress=run.stream_progress)


class PageCommits:
    """Where a stream's pages are committed, in page order: in this thread, or behind the
    mapping in a writer thread of its own.

    Per page, the mapping is Python work and the commit mostly waits for the database (a
    handful of statements and the commit itself): on PostgreSQL, the writer thread commits
    page N on its own connection while this thread maps the next ones, so the database's time
    overlaps the mapping instead of adding to it (at latency 0 a page's wait for PostgreSQL
    is about a third of its cost). `WRITE_AHEAD` pages at most are in the writer's hands (two:
    one being committed, one queued, so that a page slow to map or to commit does not stall
    the other thread): memory stays flat, and a failure surfaces at a later page (the pages
    committed before it stay, as when they were committed here; the one queued behind it is
    never committed).

    What a page's mapping reads must not be what the pages before it are writing: a content
    page looks up the stored rows of its ids, so a page sharing an id with a page being
    committed (a list that shifted between two requests) waits for that commit first.

    In this thread instead: on SQLite (one writer at a time anyway) and inside a transaction
    (a test's, or any caller's: the writer's own connection would not see its rows).
    """

    def __init__(self, *, item_id: Callable[[Any], str | None] | None = None) -> None:
        self.item_id = item_id
        self.relaxed = commits_relaxed()
        self.pool: ThreadPoolExecutor | None = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-writer")
        # The pages in the writer's hands, oldest first: (its commit, the ids it writes).
        self.pending: deque[tuple[Future, frozenset[str]]] = deque()
        self.failed = False  # a page failed: the pages queued behind it are not committed
        self.relaxed_here = False

    def __enter__(self) -> PageCommits:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc is None:
                self.wait()  # the last page's failure is the stream's
            else:
                with suppress(BaseException):  # the error under way is the one to report
                    self.wait()
        finally:
            if self.pool is not None:
                self.pool.submit(_close_connection).result()
                self.pool.shutdown()

    def before_mapping(self, page: PageLike) -> None:
        """Wait for the pages being committed that share an id with `page` (and the ones
        before them: pages commit in order)."""
        if not self.pending or self.item_id is None:
            return
        ids = set()
        for raw in page.results:
            with suppress(Exception):  # an item without a usable id is the mapping's to report
                ids.add(self.item_id(raw))
        shared = [n for n, (_, written) in enumerate(self.pending) if not written.isdisjoint(ids)]
        for _ in range(shared[-1] + 1 if shared else 0):
            self._wait_oldest()

    def submit(self, job: Callable[[], None], *, seen: list[str]) -> None:
        if self.pool is None:
            job()
            return
        while len(self.pending) >= WRITE_AHEAD:
            self._wait_oldest()
        commit = self.pool.submit(contextvars.copy_context().run, self._commit, job)
        self.pending.append((commit, frozenset(seen)))

    def wait(self) -> None:
        while self.pending:
            self._wait_oldest()

    def _wait_oldest(self) -> None:
        commit, _ids = self.pending.popleft()
        commit.result()

    def _commit(self, job: Callable[[], None]) -> None:
        if self.failed:
            raise PageNotCommitted("a page before this one failed to commit")
        if self.relaxed and not self.relaxed_here:
            relax_commits_here()  # this connection is the writer's own, closed at the end
            self.relaxed_here = True
        try:
            job()
        except BaseException:
            self.failed = True
            raise


class PageNotCommitted(Exception):
    """A page queued behind one that failed: never committed (the first failure is the one
    reported)."""


def _close_connection() -> None:
    connection.close()


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
