"""Promise: every statement the door stores is followed by an apply task that starts after it:
one at once per window of DEBOUNCE_SECONDS, and one at the window's end for what came after
(a burst's last request is never left to the periodic retry), not one per request."""

from __future__ import annotations

import uuid

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache

from integrations.tasks import xapi as xapi_tasks


@pytest.fixture(autouse=True)
def _cache_on_the_fake_clock(monkeypatch):
    """A cache whose expiry follows the test's clock (Redis keeps its own time)."""
    monkeypatch.setattr(xapi_tasks, "cache", LocMemCache(f"debounce-{uuid.uuid4().hex}", {}))


class Queued:
    def __init__(self) -> None:
        self.countdowns: list[float] = []

    def apply_async(self, args, countdown=0):
        self.countdowns.append(round(countdown, 3))


def test_a_window_queues_one_apply_at_once_and_one_at_its_end(monkeypatch):
    queued = Queued()
    monkeypatch.setattr(xapi_tasks, "xapi_apply", queued)
    window = xapi_tasks.DEBOUNCE_SECONDS
    with time_machine.travel(1_000_000.0, tick=False) as clock:
        xapi_tasks.xapi_apply_soon(7)
        assert queued.countdowns == [0]
        clock.shift(window * 0.3)
        xapi_tasks.xapi_apply_soon(7)  # the first task may have run: one more at the end
        clock.shift(window * 0.2)
        xapi_tasks.xapi_apply_soon(7)  # covered by that one
        xapi_tasks.xapi_apply_soon(7)
        assert queued.countdowns == [0, round(window * 0.7, 3)]
        xapi_tasks.xapi_apply_soon(8)  # another integration has its own window
        assert queued.countdowns[-1] == 0 and len(queued.countdowns) == 3
        clock.shift(window * 0.6)  # a new window
        xapi_tasks.xapi_apply_soon(7)
        assert queued.countdowns[-1] == 0 and len(queued.countdowns) == 4


def test_a_lone_request_queues_a_single_apply(monkeypatch):
    queued = Queued()
    monkeypatch.setattr(xapi_tasks, "xapi_apply", queued)
    xapi_tasks.xapi_apply_soon(9)
    assert queued.countdowns == [0]
