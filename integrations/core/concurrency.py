"""Fetching numbered pages several at once, handed over in order.

`fetch_in_order(numbers, fetch, scan)` runs `fetch(n)` for each page number on a small thread
pool and yields the results in the order of `numbers`, with at most `scan.allowed` fetches in
flight: memory stays at K pages, and the consumer (which commits page by page) sees the same
sequence as a sequential scan, so its checkpoint stays "the last committed page" and a resumed
run fetches only what is missing. The first error is raised in order (pages before it are
yielded first); the fetches still pending are cancelled.

How many fetches may be in flight, and how fast each request goes, is the client's throttle's
to say (`core.throttle.Throttle`: its `scan()` gives the `scan` handed here, an in-flight limit
that halves on a 429 and grows back, capped by the account's shared budget; the pace learnt
from 429s and the `Retry-After` pause apply to each request as the client sends it). The fetch
threads only do HTTP (never the ORM); each fetch runs in a copy of the caller's context, so its
log lines carry the run's fields (`core.logs`).

Within `fetches_inline()` (the sync's pipeline run sequentially, `services/pipeline.py`) the
fetches run one after another on the iterating thread, with the same limit bookkeeping.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol, TypeVar

T = TypeVar("T")
MAX_CONCURRENCY = 16  # fetches in flight at most, whatever a setting or an integration asks


class Scan(Protocol):
    """What `fetch_in_order` needs of a scan (`core.throttle.Scan`)."""

    @property
    def maximum(self) -> int: ...  # fetches in flight at most, ever: the pool's size

    @property
    def allowed(self) -> int: ...  # fetches that may be in flight now

    def run(self, fetch: Callable[[int], T], number: int) -> T: ...


_INLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("fetches_inline", default=False)


@contextmanager
def fetches_inline() -> Iterator[None]:
    """`fetch_in_order` started in this context fetches on the calling thread, no pool."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


def fetch_in_order(
    numbers: Iterable[int],
    fetch: Callable[[int], T],
    scan: Scan,
    *,
    name: str = "page-fetch",
) -> Iterator[T]:
    """Yield `fetch(n)` for each of `numbers`, in order, up to `scan.allowed` in flight (each
    fetch run by `scan.run`, which tells the limit whether it met a 429)."""
    todo = iter(numbers)
    pending: deque[Future] = deque()

    if _INLINE.get():
        for number in todo:
            yield scan.run(fetch, number)
        return
    pool = ThreadPoolExecutor(max_workers=scan.maximum, thread_name_prefix=name)
    try:
        while True:
            while len(pending) < scan.allowed:
                number = next(todo, None)
                if number is None:
                    break
                context = contextvars.copy_context()
                pending.append(pool.submit(context.run, scan.run, fetch, number))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
