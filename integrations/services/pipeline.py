"""The sync's page pipeline: fetch, map, commit, then the run's per-page hooks.

`pipeline_run` drives one stream's pages (`paging.run_stream` builds its steps). It starts the
prefetch and writer threads and decides whether the client's fetch pool runs;
`SYNC_PIPELINE_SEQUENTIAL` runs it with none (every step in order on the task's thread, for
debugging: the same pages, the same commits, the same stored result). A split report's ranges
and pages read again for the ratio scale are iterated on the task's thread, outside
`pipeline_run` (`fetch_scope`). Beside these, `core.runs.run_note_wait` starts a short-lived
`run-<id>-wait` thread for one UPDATE while a request waits.

Thread map (threaded, the default):

- **main** (the task's thread): takes each page from the prefetch queue, waits for the commits
  that share an id with it (`PageCommits.before_mapping`), maps it (`mapper`: the stored rows
  looked up, the pure mapping), hands its commit to the writer, and, once a page is committed,
  runs its `after` hook: lease renewal and the time slice (`core.execute`'s `renew`, which may
  raise `Reschedule`), the command's progress, planner ANALYZE (`planner.refreshing`) and the
  shared budget's claim (`BudgetShare.page_done`, which caps the client's throttle). Hooks run
  in page order, each after its page's commit and on this thread's database connection.
- **prefetch** (`sync-prefetch`, one per stream, daemon; `prefetched`): iterates the client's
  page generator (bounds, `next` links, the concurrent scan) and puts pages on a queue. HTTP
  only, never the ORM.
- **fetch pool** (`udemy-pages`, up to `UDEMY_PAGE_CONCURRENCY`; `core.concurrency.
  fetch_in_order`, started from the prefetch thread by the client's scan): one page request
  each, as many in flight as the client's throttle allows (`core.throttle.Throttle.scan`),
  each request paced and paused by it. It lives in `core` because the provider's client (a
  lower layer) starts it; this module decides whether it runs (`core.concurrency.
  fetches_inline` when sequential).
- **writer** (`sync-writer`, one; PostgreSQL outside a transaction only; `PageCommits`): each
  page's commit in page order, on its own connection (relaxed commits when the sync relaxed
  them), closed by a last job. On SQLite (one writer at a time anyway) and inside a
  transaction (the writer's connection would not see its rows) commits run on main.

What crosses threads, and how:

- pages, prefetch → main: a `queue.Queue` of `PREFETCH_DEPTH` messages (`item`, `end`,
  `error`); an upstream error is re-raised on main in page order; main sets a
  `threading.Event` when it stops, and the producer closes the client's generator (which
  cancels the pending fetches and shuts the pool down);
- pages, fetch pool → prefetch: `Future`s taken in page order (`fetch_in_order`);
- commits, main → writer: `Future`s of a one-thread `ThreadPoolExecutor`, at most
  `WRITE_AHEAD` in the writer's hands, each kept with the ids it writes and its `after` hook;
  main collects the finished ones in order (before each mapping, when the writer is full, at
  the end) and runs their hooks. A commit's exception comes back through `.result()`;
- a stop, either way: `PageCommits.stopped` (a `threading.Event`) is set by the writer when a
  commit fails and by main when a hook raises (`Reschedule`, a lost lease); the writer starts
  no page after it (`PageNotCommitted`). A page whose commit was already under way when a
  hook raised is kept (its checkpoint with it: a resumed run starts after it), its hook not
  run;
- ContextVars: each writer job runs in a copy of main's context taken at submission (the
  run's log fields, relaxed commits, `core.logs`, `core.transactions`); each fetch runs in a
  copy of the context of the thread iterating the client. The prefetch thread starts without
  a copy: its lines carry the run's fields through `core.logs`' fallback.

Locks: none here (only main touches the queue of pending commits; `stopped` is an Event). The
client's `_counters` lock and its throttle's locks (the throttle's own for the pause and the
requests on the wire, its limit's and its pacer's) guard the fetch side (`core.http`,
`core.throttle`).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager, nullcontext, suppress
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection

from integrations.core.concurrency import fetches_inline
from integrations.core.transactions import commits_relaxed, relax_commits_here
from integrations.providers.base import PageLike

T = TypeVar("T")
PREFETCH_DEPTH = 2
WRITE_AHEAD = 2  # pages in the writer's hands at most (see `PageCommits`)

Hook = Callable[[], None]


def sequential() -> bool:
    """`SYNC_PIPELINE_SEQUENTIAL`: fetch, map and commit in order on the task's thread."""
    return bool(getattr(settings, "SYNC_PIPELINE_SEQUENTIAL", False))


def fetch_scope() -> Any:
    """Where a client's pages are iterated outside `pipeline_run` (a split report's ranges, a
    range read again): its fetches on the calling thread when the pipeline is sequential."""
    return fetches_inline() if sequential() else nullcontext()


def pipeline_run(
    upstream: Iterator[PageLike],
    *,
    item_id: Callable[[Any], str | None] | None,
    mapper: Callable[[PageLike], tuple],
    commit: Callable[[PageLike, tuple], None],
    after: Hook | None,
) -> None:
    """Every page of `upstream`: `mapper(page)` here, `commit(page, mapped)` in page order (in
    the writer or here), then `after()` here once that page is committed. `mapped[2]` lists
    the ids the page writes."""
    if sequential():
        pages_scope: Any = _closed_after(upstream)
        fetches: Any = fetches_inline()
    else:
        pages_scope, fetches = closing(prefetched(upstream)), nullcontext()
    with fetches, pages_scope as pages, PageCommits(item_id=item_id) as commits:
        for page in pages:
            commits.before_mapping(page)
            mapped = mapper(page)
            commits.submit(_bound(commit, page, mapped), seen=mapped[2], after=after)


@contextmanager
def _closed_after(items: Iterator[T]) -> Iterator[Iterator[T]]:
    """`items`, closed at the end when it can be (a generator: the client's scan)."""
    try:
        yield items
    finally:
        if close := getattr(items, "close", None):
            close()


def _bound(commit: Callable[[PageLike, tuple], None], page: PageLike, mapped: tuple) -> Hook:
    return lambda: commit(page, mapped)


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


class PageCommits:
    """Where a stream's pages are committed, in page order: in this thread, or behind the
    mapping in a writer thread of its own; each page's `after` hook runs in this thread once
    the page is committed, in page order.

    Per page, the mapping is Python work and the commit mostly waits for the database (a
    handful of statements and the commit itself): on PostgreSQL, the writer thread commits
    page N on its own connection while this thread maps the next ones, so the database's time
    overlaps the mapping instead of adding to it. `WRITE_AHEAD` pages at most are in the
    writer's hands (two: one being committed, one queued, so that a page slow to map or to
    commit does not stall the other thread): memory stays flat, and a failure surfaces at a
    later page (the pages committed before it stay, as when they were committed here; the one
    queued behind it is never committed).

    What a page's mapping reads must not be what the pages before it are writing: a content
    page looks up the stored rows of its ids, so a page sharing an id with a page being
    committed (a list that shifted between two requests) waits for that commit first.

    In this thread instead: on SQLite (one writer at a time anyway), inside a transaction (a
    test's, or any caller's: the writer's own connection would not see its rows), and when the
    pipeline is sequential.
    """

    def __init__(self, *, item_id: Callable[[Any], str | None] | None = None) -> None:
        self.item_id = item_id
        self.relaxed = commits_relaxed()
        self.pool: ThreadPoolExecutor | None = None
        in_place = connection.vendor != "postgresql" or connection.in_atomic_block
        if not in_place and not sequential():
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-writer")
        # The pages in the writer's hands, oldest first: (its commit, the ids it writes, its
        # hook).
        self.pending: deque[tuple[Future, frozenset[str], Hook | None]] = deque()
        # A commit failed or a hook raised: the pages queued behind are not committed.
        self.stopped = threading.Event()
        self.hook_raised = False  # main's own: the hooks of the pages after it are not run
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
        """Run the hooks of the pages committed meanwhile, then wait for the pages being
        committed that share an id with `page` (and the ones before them: pages commit in
        order)."""
        self._collect()
        if not self.pending or self.item_id is None:
            return
        ids = set()
        for raw in page.results:
            with suppress(Exception):  # an item without a usable id is the mapping's to report
                ids.add(self.item_id(raw))
        shared = [
            n for n, (_, written, _) in enumerate(self.pending) if not written.isdisjoint(ids)
        ]
        for _ in range(shared[-1] + 1 if shared else 0):
            self._wait_oldest()

    def submit(self, job: Hook, *, seen: list[str], after: Hook | None = None) -> None:
        if self.pool is None:
            job()
            if after:
                after()
            return
        self._collect()
        while len(self.pending) >= WRITE_AHEAD:
            self._wait_oldest()
        commit = self.pool.submit(contextvars.copy_context().run, self._commit, job)
        self.pending.append((commit, frozenset(seen), after))

    def wait(self) -> None:
        while self.pending:
            self._wait_oldest()

    def _collect(self) -> None:
        """The hooks of the oldest pages already committed, without waiting."""
        while self.pending and self.pending[0][0].done():
            self._wait_oldest()

    def _wait_oldest(self) -> None:
        commit, _ids, after = self.pending.popleft()
        commit.result()
        if after is None or self.hook_raised:
            return
        try:
            after()
        except BaseException:
            self.hook_raised = True
            self.stopped.set()  # the run stops here: the writer starts no later page
            raise

    def _commit(self, job: Hook) -> None:
        if self.stopped.is_set():
            raise PageNotCommitted("a page before this one failed to commit")
        if self.relaxed and not self.relaxed_here:
            relax_commits_here()  # this connection is the writer's own, closed at the end
            self.relaxed_here = True
        try:
            job()
        except BaseException:
            self.stopped.set()
            raise


class PageNotCommitted(Exception):
    """A page queued behind one that failed (or whose hook stopped the run): never committed
    (the first failure is the one reported)."""


def _close_connection() -> None:
    connection.close()
