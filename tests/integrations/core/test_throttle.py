"""The throttle a client owns: a 429's pause (shared only while held, slept once per thread,
too long to wait: nothing sent), a concurrent scan's in-flight limit under the shared budget's
ceiling, what the budget is told the scan wants, and the pace learnt from 429s (paced clients
only). Unit tests: no server, the sleeps recorded instead of slept."""

from __future__ import annotations

import time

import pytest

from integrations.core.concurrency import fetch_in_order, fetches_inline
from integrations.core.throttle import MARGIN, Pacer, PauseTooLong, Throttle


def recording_throttle(**kwargs) -> tuple[Throttle, list[float]]:
    slept: list[float] = []
    return Throttle(sleep=slept.append, **kwargs), slept


def test_a_pause_not_shared_holds_back_no_other_request():
    throttle, slept = recording_throttle()
    throttle.pause(30)
    throttle.before_send(cap=60)
    assert slept == []


def test_a_shared_pause_is_slept_out_once_by_each_thread_and_not_by_the_one_that_met_it():
    throttle, slept = recording_throttle()
    throttle.hold_pause(True)
    throttle.pause(5, here=True)  # the thread that met the 429 sleeps it out itself
    throttle.before_send(cap=60)
    assert slept == []
    throttle.pause(8)  # another thread's 429, later than the first
    throttle.before_send(cap=60)
    assert len(slept) == 1 and 7 < slept[0] <= 8
    throttle.before_send(cap=60)  # already slept through
    assert len(slept) == 1


def test_a_shared_pause_longer_than_the_cap_sends_nothing_and_stays():
    throttle, slept = recording_throttle()
    throttle.hold_pause(True)
    throttle.pause(120)
    for _ in range(2):  # not marked as slept through: the next request is refused too
        with pytest.raises(PauseTooLong) as excinfo:
            throttle.before_send(cap=60)
        assert 119 < excinfo.value.seconds <= 120
    assert slept == []
    throttle.hold_pause(False)
    throttle.before_send(cap=60)  # no longer shared: this request goes
    assert slept == []


def test_holds_add_up_and_never_go_negative():
    throttle = Throttle()
    throttle.hold_pause(True)
    throttle.hold_pause(True)
    throttle.hold_pause(False)
    assert throttle.pause_shared
    throttle.hold_pause(False)
    throttle.hold_pause(False)
    assert not throttle.pause_shared
    throttle.hold_pause(True)
    assert throttle.pause_shared


def test_the_pause_travels_to_and_from_the_budget_in_epoch_seconds(settings):
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    throttle = Throttle()
    assert throttle.pause_epoch() == 0.0
    throttle.pause_until_epoch(time.time() + 30)
    assert throttle.pause_epoch() == pytest.approx(time.time() + 30, abs=1)
    throttle.pause_until_epoch(time.time() + 10**9)  # clamped when read
    assert throttle.pause_epoch() <= time.time() + 121
    throttle.pause_until_epoch(time.time() - 5)  # over already: nothing changes
    assert throttle.pause_epoch() <= time.time() + 121


def test_requests_on_the_wire_are_counted_until_they_end_however_they_end():
    throttle = Throttle()
    with throttle.in_flight(), throttle.in_flight():
        assert throttle.on_the_wire == 2
    with pytest.raises(ConnectionError), throttle.in_flight():
        raise ConnectionError
    assert throttle.on_the_wire == 0


def test_a_scan_starts_under_the_ceiling_and_is_capped_while_it_runs():
    throttle = Throttle(configured=lambda: 6)
    assert throttle.wanted == 6  # between scans: what a scan would start with
    throttle.cap(3)
    with throttle.scan(8) as scan:
        assert scan.maximum == 8 and scan.allowed == 3
        assert throttle.wanted == 8  # the adaptive limit, not the ceiling
        assert throttle.pause_shared  # a 429's pause stops every fetch of the scan
        throttle.cap(2)
        assert scan.allowed == 2
    assert not throttle.pause_shared and throttle.wanted == 6


def test_a_fetch_that_met_a_429_halves_the_scan_and_clean_ones_grow_it_back():
    throttle = Throttle()

    def fetch(number: int) -> int:
        if number == 2:
            throttle.answered(429)
        throttle.answered(200)
        return number

    with fetches_inline(), throttle.scan(4) as scan:
        pages = fetch_in_order(range(1, 7), fetch, scan)
        assert [next(pages) for _ in range(5)] == [1, 2, 3, 4, 5]
        assert throttle.limit.value == 2  # halved at page 2; twice as patient since
        assert next(pages) == 6
        assert throttle.limit.value == 3  # 2 × 2 clean fetches: one more
        assert throttle.limit.lowest == 2
    assert throttle.refusals == 1


def test_the_pool_takes_no_more_pages_than_the_scan_allows_in_flight():
    """The page numbers are drawn lazily: while the consumer holds page n, the pool has taken
    n + 1 of them (the ceiling of 2 allows one more in flight), never the scan's maximum."""
    throttle = Throttle()
    drawn = [0]

    def numbers():
        for number in range(1, 21):
            drawn[0] += 1
            yield number

    throttle.cap(2)
    with throttle.scan(8) as scan:
        for page in fetch_in_order(numbers(), lambda n: n, scan):
            assert drawn[0] == min(page + 1, 20)


def test_an_unpaced_throttle_counts_429s_and_never_paces():
    throttle, slept = recording_throttle()
    for _ in range(20):
        throttle.answered(200)
    throttle.answered(429)
    assert throttle.pacer is None and throttle.refusals == 1
    for _ in range(50):
        throttle.before_send(cap=60)
    assert slept == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_paced_throttle_learns_from_a_429_and_dates_it_by_when_the_request_left():
    throttle = Throttle(paced=True)
    clock = Clock()
    throttle.pacer = Pacer(clock=clock, sleep=lambda s: None)
    for _ in range(30):
        throttle.answered(200)
        clock.now += 0.05
    throttle.answered(429, elapsed=0.2)
    rate = throttle.pacer.rate
    assert rate == pytest.approx(30 / (1.5 + 1.0) * MARGIN)  # 1.5 s + a second's budget
    for _ in range(15):  # the other requests in flight, answered meanwhile
        throttle.answered(200)
        clock.now += 0.01
    throttle.answered(429, elapsed=0.3)  # sent before the first 429 came back: same event
    assert throttle.pacer.cuts == 1 and throttle.pacer.rate == rate
    throttle.answered(429, elapsed=0.0)  # sent after it: a new event, the rate cut again
    assert throttle.pacer.cuts == 2 and throttle.pacer.rate == pytest.approx(rate * MARGIN)
    assert throttle.refusals == 3
