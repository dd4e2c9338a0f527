"""The pause a 429 imposes on `core.http.JsonHttpClient`, shared beyond the one request.

While held (by a concurrent scan of pages, or a `core.budget.BudgetShare`), a 429's wait pauses
every request of the client, not only the one that met it: the rate limit is the
organization's, not the thread's. `pause_epoch` and `pause_until_epoch` carry the pause to and
from the account's other syncs, bounded by `shared_pause_cap()` both ways: this run may wait
longer, the others don't, and a value stored before the bound is clamped when read.

A mixin of the client, which owns the state (`_counters` also guards its request counters)
and honours the pause as it sends each request.
"""

from __future__ import annotations

import threading
import time

from .netutil import shared_pause_cap


class SharedPause:
    """The shared pause of `JsonHttpClient` (which sets the attributes below)."""

    _counters: threading.Lock
    _pause_until: float  # time.monotonic() before which no request is sent (when shared)
    _shared_pause_holds: int

    @property
    def shared_pause(self) -> bool:
        return self._shared_pause_holds > 0

    def hold_shared_pause(self, on: bool) -> None:
        """While held (by a concurrent scan, a `core.budget.BudgetShare`), a 429's wait pauses
        every request of this client, not only the one that met it."""
        with self._counters:
            self._shared_pause_holds = max(0, self._shared_pause_holds + (1 if on else -1))

    def pause_epoch(self) -> float:
        """The pause this client honours, in epoch seconds (0: none), to share it: at most
        `shared_pause_cap()` ahead (this run may wait longer; the account's other syncs don't)."""
        left = min(self._pause_until - time.monotonic(), shared_pause_cap())
        return time.time() + left if left > 0 else 0.0

    def pause_until_epoch(self, epoch: float) -> None:
        """Honour a pause another holder of the account's budget met (epoch seconds), at most
        `shared_pause_cap()` ahead whatever the store says (a value written before the bound)."""
        left = min(epoch - time.time(), shared_pause_cap())
        if left > 0:
            with self._counters:
                self._pause_until = max(self._pause_until, time.monotonic() + left)
