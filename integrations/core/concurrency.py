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

`Pacer` spaces requests in time, on top of the limit on how many are in flight. Concurrency alone
cannot sit just under a rate: at 100 ms a page, 2 in flight make 20 requests/s and 3 make 30, so
an AIMD on K oscillates across a limit of 20, and Udemy's `Retry-After` counts whole seconds, so
every probe past the limit costs at least a second of pause for every request in flight. The rule:

- before the first 429, no pacing at all: a run that never meets a limit is never slowed;
- a 429 means the server's budget is empty. From one 429 to the next it went from empty to empty,
  so what it answered meanwhile, per second, is what it grants (the `Retry-After` pause
  included: the budget refills during it). On a 429 the rate becomes the answers per second
  since the last 429 it was learnt from, times `MARGIN`, and never more than `MARGIN` times the
  rate paced until then;
- a window that does not start at such a 429 (the first window, from the first answer; a long
  one, cut to its last `WINDOW` seconds) may start with the budget full, which is assumed to
  hold a second's worth of requests (`CREDIT`, as Retry-After counts seconds): that second is
  added to its length. For a budget of one second's burst, the first rate is then right at
  once (no second probe past the limit); for a smaller one it is low, and grows;
- fewer than `MIN_SAMPLE` answers teach nothing (a 429 from a fault, or another sync of the
  organization spending its budget, must not set a crawl): the 429 is counted, the rate kept;
- the 429s of requests sent before the last 429 event are that event (they were in flight when
  the budget ran out): one event per burst, as for `AdaptiveLimit`;
- each request takes the next slot, `1 / rate` after the previous one. After a lull (a pause, a
  slow page) up to `CREDIT` seconds of missed slots are caught up at once, the budget having
  refilled meanwhile;
- while the pace is what limits (a request waits for its slot), the rate grows by `GROWTH` of
  the learnt rate per second (an additive increase, about 1 %/s), so a limit that rose is found
  again, slowly, by the next 429.

A slot is reserved under a lock and slept out once the lock is released: a paced fetch thread
never holds up the consumer or another thread. A `Retry-After` pause still applies on its own
(`core.http`): a request whose slot falls within it is sent when it ends.

Within `fetches_inline()` (the sync's pipeline run sequentially, `services/pipeline.py`) the
fetches run one after another on the iterating thread, with the same limit bookkeeping.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
MAX_CONCURRENCY = 16
MAX_PATIENCE = 64
MARGIN = 0.95  # the learnt rate: just under what the server granted
GROWTH = 0.01  # per second paced at the learnt rate, as a share of it
WINDOW = 10.0  # seconds of answers a rate is learnt from, at most
CREDIT = 1.0  # seconds: the budget a server is assumed to hold, a lull's slots caught up on
MIN_SAMPLE = 10  # answers in a window, at least, to learn a rate from it

_INLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("fetches_inline", default=False)


@contextmanager
def fetches_inline() -> Iterator[None]:
    """`fetch_in_order` started in this context fetches on the calling thread, no pool."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


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


class Pacer:
    """Requests per second learnt from 429s (`rate`, None until the first one): `wait()` before
    each request keeps them `1 / rate` apart. Thread-safe; `clock` and `sleep` can be injected
    (tests run it on a fake clock)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate: float | None = None
        self.cuts = 0  # 429 events the rate was learnt from
        self.clock, self._sleep = clock, sleep
        self._learnt = 0.0  # the rate set by the last cut (the growth is a share of it)
        self._next_at = float("-inf")  # the next free slot
        self._started: float | None = None  # the first answer: the first window starts there
        self._event_at: float | None = None  # the last 429 event
        self._cut_at: float | None = None  # the last 429 event a rate was learnt from
        self._answers: deque[float] = deque()  # when requests were answered, WINDOW back
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Sleep until this request's slot (no lock held meanwhile); the seconds slept."""
        delay = self._reserve()
        if delay > 0:
            self._sleep(delay)
        return delay

    def answered(self) -> None:
        """A request got an answer other than 429: it spent one unit of the server's budget."""
        with self._lock:
            now = self.clock()
            if self._started is None:
                self._started = now  # an answer's time, as a 429's is: the same latency
            self._answers.append(now)
            while self._answers[0] < now - WINDOW:
                self._answers.popleft()

    def throttled(self, sent_at: float) -> None:
        """A request sent at `sent_at` (on `clock`) was answered 429."""
        with self._lock:
            now = self.clock()
            if self._event_at is not None and sent_at < self._event_at:
                return  # in flight at the last 429 event: the same event
            self._event_at = now
            observed = self._observed(now)
            if observed is None:
                return
            paced = observed if self.rate is None else min(observed, self.rate)
            self.rate = self._learnt = paced * MARGIN
            self._cut_at = now
            self.cuts += 1

    def _observed(self, now: float) -> float | None:
        """Answers per second since the last cut (before any: since the first answer), at most
        WINDOW back; None below MIN_SAMPLE answers."""
        since = max(at for at in (now - WINDOW, self._cut_at, self._started) if at is not None)
        answered = sum(1 for at in self._answers if at >= since)
        if answered < MIN_SAMPLE:
            return None
        full = 0.0 if since == self._cut_at else CREDIT  # the budget it may have started with
        return answered / (now - since + full)

    def _reserve(self) -> float:
        """The seconds until this request's slot, taken now (0: it may go at once)."""
        with self._lock:
            now = self.clock()
            if self.rate is None:
                return 0.0
            interval = 1.0 / self.rate
            # Slots missed in a lull are caught up on, CREDIT seconds' worth at most.
            slot = max(self._next_at, now - CREDIT + interval)
            self._next_at = slot + interval
            if slot <= now:
                return 0.0
            # Held back: the pace is what limits, so it creeps up (the limit may have risen).
            self.rate += GROWTH * self._learnt * interval
            return slot - now


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

    if _INLINE.get():
        for number in todo:
            yield one(number)
        return
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
