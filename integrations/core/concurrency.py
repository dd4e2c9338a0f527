"""Fetching numbered pages several at once, handed over in order.

`fetch_in_order(numbers, fetch, limit)` runs `fetch(n)` for each page number on a small thread
pool and yields the results in the order of `numbers`, with at most `limit.allowed` fetches in
flight: memory stays at K pages, and the consumer (which commits page by page) sees the same
sequence as a sequential scan, so its checkpoint stays "the last committed page" and a resumed
run fetches only what is missing. The first error is raised in order (pages before it are
yielded first); the fetches still pending are cancelled.

`AdaptiveLimit` is additive increase / multiplicative decrease: halved (rounded up) when a
fetch met a 429, once per burst (the 429s of fetches already in flight when it was halved are
the same event), one more after `value` clean fetches in a row, between 1 and its maximum. Each
halving makes the next increases twice as patient (up to 64 × `value` clean fetches): a probe
past the organization's rate limit costs a `Retry-After` of at least a second for all its
requests, so once the limit is met it is approached slowly. The fetch threads only
do HTTP (never the ORM); each fetch runs in a copy of the caller's context, so its log lines
carry the run's fields (`core.logs`).
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
MAX_CONCURRENCY = 16
MAX_PATIENCE = 64


class AdaptiveLimit:
    """`value`: what the adaptive rule allows; `ceiling`: what a shared budget allows
    (`core.budget`); `allowed`: the fetches that may be in flight, never below one."""

    def __init__(
        self, maximum: int, *, start: int | None = None, ceiling: int | None = None
    ) -> None:
        self.maximum = max(1, min(int(maximum), MAX_CONCURRENCY))
        self.value = max(1, min(int(start or self.maximum), self.maximum))
        self.lowest = self.value
        self.ceiling = ceiling
        self.patience = 1  # clean fetches per unit of `value` before one more is allowed
        self._clean = 0
        self._since_cut: float = float("inf")  # fetches finished since the last halving
        self._cut_at = 0  # the other fetches in flight when it was halved
        self._lock = threading.Lock()

    def throttled(self) -> None:
        with self._lock:
            self._since_cut += 1
            if self._since_cut <= self._cut_at:
                return  # in flight when the limit was last halved: the same burst
            in_flight = self.value
            self.value = max(1, (self.value + 1) // 2)  # 3 → 2: never below half
            self.lowest = min(self.lowest, self.value)
            self.patience = min(MAX_PATIENCE, self.patience * 2)
            self._clean, self._since_cut, self._cut_at = 0, 0, in_flight - 1

    @property
    def allowed(self) -> int:
        ceiling = self.value if self.ceiling is None else self.ceiling
        return max(1, min(self.value, ceiling))

    def succeeded(self) -> None:
        with self._lock:
            self._clean += 1
            self._since_cut += 1
            if self._clean >= self.value * self.patience and self.value < self.maximum:
                self.value += 1
                self._clean = 0


def fetch_in_order(
    numbers: Iterable[int],
    fetch: Callable[[int], T],
    limit: AdaptiveLimit,
    *,
    throttle_count: Callable[[], int] = lambda: 0,
    name: str = "page-fetch",
) -> Iterator[T]:
    """Yield `fetch(n)` for each of `numbers`, in order, up to `limit.allowed` in flight;
    `throttle_count()` (the client's 429s so far) tells a fetch that met a 429."""
    todo = iter(numbers)
    pending: deque[Future] = deque()

    def one(number: int) -> T:
        before = throttle_count()
        result = fetch(number)
        if throttle_count() > before:
            limit.throttled()
        else:
            limit.succeeded()
        return result

    pool = ThreadPoolExecutor(max_workers=limit.maximum, thread_name_prefix=name)
    try:
        while True:
            while len(pending) < limit.allowed:
                number = next(todo, None)
                if number is None:
                    break
                pending.append(pool.submit(contextvars.copy_context().run, one, number))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
