"""How fast one upstream client sends its requests: `Throttle`, the one object that decides.

Every `core.http.JsonHttpClient` owns one as `client.throttle`; the client tells it of each
request (`before_send`, `in_flight`, `answered`, `pause`), a concurrent scan of pages asks it
how many fetches may be in flight (`scan`, used by `core.concurrency.fetch_in_order`), and the
account's shared budget (`core.budget.BudgetShare`) reads what it wants and caps it (`wanted`,
`cap`, `on_the_wire`, `pause_epoch`, `pause_until_epoch`). Four rules make the policy, from
the innermost:

1. **Requests in flight, AIMD** (`AdaptiveLimit`, one per scan, `Throttle.limit` the last):
   additive increase / multiplicative decrease, from the scan's concurrency. Halved (rounded
   up) when a fetch met a 429, once per burst (the 429s of fetches already in flight when it
   was halved are the same event), one more after `value` clean fetches in a row, between 1 and
   its maximum. Each halving makes the next increases twice as patient (up to `MAX_PATIENCE`
   × `value` clean fetches): a probe past the organization's rate limit costs a `Retry-After`
   of at least a second for all its requests, so once the limit is met it is approached slowly.
2. **A ceiling from the shared budget** (`cap`): what the account's budget grants this client
   (`core.budget`) caps the limit of the scan under way and of the next ones; `wanted` is what
   the scan under way would have in flight (its adaptive limit), or, between scans, the
   client's configured concurrency.
3. **A pace learnt from 429s** (`Pacer`, a paced client only: `paced=True`). Concurrency alone
   cannot sit just under a rate: at 100 ms a page, 2 in flight make 20 requests/s and 3 make
   30, so an AIMD on K oscillates across a limit of 20, and Udemy's `Retry-After` counts whole
   seconds, so every probe past the limit costs at least a second of pause for every request in
   flight. The rule:

   - before the first 429, no pacing at all: a run that never meets a limit is never slowed;
   - a 429 means the server's budget is empty. From one 429 to the next it went from empty to
     empty, so what it answered meanwhile, per second, is what it grants (the `Retry-After`
     pause included: the budget refills during it). On a 429 the rate becomes the answers per
     second since the last 429 it was learnt from, times `MARGIN`, and never more than
     `MARGIN` times the rate paced until then;
   - a window that does not start at such a 429 (the first window, from the first answer; a
     long one, cut to its last `WINDOW` seconds) may start with the budget full, which is
     assumed to hold a second's worth of requests (`CREDIT`, as Retry-After counts seconds):
     that second is added to its length. For a budget of one second's burst, the first rate is
     then right at once (no second probe past the limit); for a smaller one it is low, and
     grows;
   - fewer than `MIN_SAMPLE` answers teach nothing (a 429 from a fault, or another sync of the
     organization spending its budget, must not set a crawl): the 429 is counted, the rate
     kept;
   - the 429s of requests sent before the last 429 event are that event (they were in flight
     when the budget ran out): one event per burst, as for the limit;
   - each request takes the next slot, `1 / rate` after the previous one. After a lull (a
     pause, a slow page) up to `CREDIT` seconds of missed slots are caught up at once, the
     budget having refilled meanwhile;
   - while the pace is what limits (a request waits for its slot), the rate grows by `GROWTH`
     of the learnt rate per second (an additive increase, about 1 %/s), so a limit that rose is
     found again, slowly, by the next 429.

   A slot is reserved under a lock and slept out once the lock is released: a paced fetch
   thread never holds up the consumer or another thread.
4. **The `Retry-After` pause** (every client). A 429's wait is recorded here (`pause`). While
   the pause is shared (held by a concurrent scan or a `BudgetShare`: `hold_pause`), it pauses
   every request of the client, not only the one that met it: the rate limit is the
   organization's, not the thread's. A request whose slot falls within it is sent when it ends;
   one that would have to wait longer than the caller's cap is not sent (`PauseTooLong`: the
   client raises its side's `RetryLater`). `pause_epoch` and `pause_until_epoch` carry the
   pause to and from the account's other syncs, bounded by `shared_pause_cap()` both ways:
   this run may wait longer, the others don't, and a value stored before the bound is clamped
   when read.

Thread-safe: the fetch threads of a scan share one throttle. The pause and the counters are
guarded by the throttle's lock, the limit and the pacer by their own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .concurrency import MAX_CONCURRENCY
from .netutil import shared_pause_cap

T = TypeVar("T")
MAX_PATIENCE = 64
MARGIN = 0.95  # the learnt rate: just under what the server granted
GROWTH = 0.01  # per second paced at the learnt rate, as a share of it
WINDOW = 10.0  # seconds of answers a rate is learnt from, at most
CREDIT = 1.0  # seconds: the budget a server is assumed to hold, a lull's slots caught up on
MIN_SAMPLE = 10  # answers in a window, at least, to learn a rate from it


class PauseTooLong(Exception):
    """The shared pause has `seconds` left, more than the caller may wait: nothing was sent."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paused for {seconds:.1f} s")
        self.seconds = seconds


class Throttle:
    """The pace of one client's requests (the module's docstring says the whole policy).

    `paced`: learn a pace from 429s (`pacer`; None when not paced). `configured`: the
    concurrency a scan of this client starts with (what it wants between scans). `sleep`: how
    the shared pause is slept out (the client's, so its tests can record it).
    """

    def __init__(
        self,
        *,
        paced: bool = False,
        configured: Callable[[], int] = lambda: 1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pacer: Pacer | None = Pacer() if paced else None
        self.configured = configured
        self.limit: AdaptiveLimit | None = None  # the last concurrent scan's
        self.ceiling: int | None = None  # requests in flight the shared budget allows
        self.scanning = False  # a concurrent scan is under way (`limit` is its limit)
        self.refusals = 0  # 429s answered
        self.on_the_wire = 0  # requests sent whose answer is not read yet
        self._pause_until = 0.0  # time.monotonic() before which no request is sent (if shared)
        self._holds = 0  # > 0: a concurrent scan or a budget share shares the pause
        self._waited = threading.local()  # the pause this thread has already slept through
        self._sleep = sleep
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ each request

    def before_send(self, cap: float) -> None:
        """Before a request: wait for its slot (once a pace is learnt), then sleep out the
        shared pause. Raises `PauseTooLong` when that pause is longer than `cap` seconds."""
        if self.pacer is not None:
            self.pacer.wait()  # no wait before the first 429
        until = self._pause_until
        if not self.pause_shared or until <= getattr(self._waited, "until", 0.0):
            return
        pause = until - time.monotonic()
        if pause > cap:
            # Another request (of this scan or of another sync of the account) was told to
            # come back later than the cap: so is this one.
            raise PauseTooLong(pause)
        self._waited.until = until
        if pause > 0:
            self._sleep(pause)

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Around a request on the wire: counted in `on_the_wire` (a shared budget's `held`)."""
        with self._lock:
            self.on_the_wire += 1
        try:
            yield
        finally:
            with self._lock:
                self.on_the_wire -= 1

    def answered(self, status: int, elapsed: float = 0.0) -> None:
        """A request was answered `status` after `elapsed` seconds (until its headers came
        back). A 429 is counted and teaches the pace; any other answer spent one unit of the
        server's budget."""
        if status == 429:
            with self._lock:
                self.refusals += 1
        if self.pacer is None:
            return
        if status != 429:
            self.pacer.answered()
        else:
            # When the request left, so that the 429s of requests already in flight at a cut
            # count as the same event.
            self.pacer.throttled(sent_at=self.pacer.clock() - elapsed)

    def pause(self, seconds: float, *, here: bool = False) -> None:
        """A 429's wait: no request of the client before `seconds` from now while the pause is
        shared. `here`: the calling thread sleeps it out itself (not a second time on its next
        request)."""
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)
            if here:
                self._waited.until = self._pause_until

    # ------------------------------------------------------------------ a concurrent scan

    @contextmanager
    def scan(self, concurrency: int) -> Iterator[Scan]:
        """A scan of up to `concurrency` fetches in flight (within the budget's ceiling): its
        limit starts anew, and the pause is shared while it lasts."""
        limit = self.limit = AdaptiveLimit(concurrency, ceiling=self.ceiling)
        self.scanning = True
        self.hold_pause(True)
        try:
            yield Scan(self, limit)
        finally:
            self.hold_pause(False)
            self.scanning = False

    # ------------------------------------------------------------------ the shared budget

    @property
    def wanted(self) -> int:
        """What the scan under way would have in flight (its adaptive limit), or would start
        with."""
        if self.scanning and self.limit:
            return self.limit.value
        return self.configured()

    def cap(self, slots: int) -> None:
        """At most `slots` requests in flight (the account's shared budget says so)."""
        self.ceiling = slots
        if self.limit:
            self.limit.ceiling = slots

    @property
    def pause_shared(self) -> bool:
        return self._holds > 0

    def hold_pause(self, on: bool) -> None:
        """While held (by a concurrent scan, a `core.budget.BudgetShare`), a 429's wait pauses
        every request of the client, not only the one that met it."""
        with self._lock:
            self._holds = max(0, self._holds + (1 if on else -1))

    def pause_epoch(self) -> float:
        """The pause the client honours, in epoch seconds (0: none), to share it: at most
        `shared_pause_cap()` ahead (this run may wait longer; the account's other syncs don't)."""
        left = min(self._pause_until - time.monotonic(), shared_pause_cap())
        return time.time() + left if left > 0 else 0.0

    def pause_until_epoch(self, epoch: float) -> None:
        """Honour a pause another holder of the account's budget met (epoch seconds), at most
        `shared_pause_cap()` ahead whatever the store says (a value written before the bound)."""
        left = min(epoch - time.time(), shared_pause_cap())
        if left > 0:
            self.pause(left)


class Scan:
    """One concurrent scan's side of its throttle (`Throttle.scan`): how many fetches may be in
    flight, and what each fetch met."""

    def __init__(self, throttle: Throttle, limit: AdaptiveLimit) -> None:
        self._throttle, self._limit = throttle, limit

    @property
    def maximum(self) -> int:
        """The most fetches it may ever have in flight (its pool's size)."""
        return self._limit.maximum

    @property
    def allowed(self) -> int:
        """The fetches that may be in flight now, never below one."""
        return self._limit.allowed

    def run(self, fetch: Callable[[int], T], number: int) -> T:
        """`fetch(number)`; the limit learns whether it met a 429 (any of the client's)."""
        before = self._throttle.refusals
        result = fetch(number)
        if self._throttle.refusals > before:
            self._limit.throttled()
        else:
            self._limit.succeeded()
        return result


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
