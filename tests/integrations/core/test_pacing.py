"""The pacer: requests spaced to the rate an organization's 429s taught, none before the first.

Unit tests run it on a fake clock (its sleeps move the clock); the last one reads pages from a
rate-limited sandbox and counts the 429s that come once the rate is learnt."""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import pairwise
from urllib.parse import parse_qs

import pytest

from integrations.core.throttle import CREDIT, GROWTH, MARGIN, MIN_SAMPLE, Pacer
from integrations.providers.udemy import pages as pages_module
from integrations.providers.udemy.client import UdemyClient

LOOPBACK = ["127.0.0.1", "localhost"]


class Clock:
    """A fake monotonic clock; `sleep` moves it on and records the pause."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer(pacer: Pacer, clock: Clock, count: int, every: float) -> None:
    """`count` answers, `every` seconds apart."""
    for _ in range(count):
        pacer.answered()
        clock.now += every


def learnt(clock: Clock, sleep: Callable[[float], None] | None = None) -> Pacer:
    """A pacer that met its first 429 after 38 answers in one second: 19 requests/s (the 38
    answers count the budget the server started with, a second's worth)."""
    pacer = Pacer(clock=clock, sleep=sleep or clock.sleep)
    answer(pacer, clock, 38, 1 / 38)
    pacer.throttled(sent_at=clock.now - 0.1)
    return pacer


def test_no_pacing_before_any_429():
    clock = Clock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    for _ in range(500):
        assert pacer.wait() == 0.0
        pacer.answered()
    assert pacer.rate is None and clock.slept == []


def test_the_first_429_teaches_a_rate_counting_the_budget_the_server_started_with():
    clock = Clock()
    pacer = learnt(clock)
    # 38 answers over 1 s, plus the second's worth the budget is assumed to have held.
    assert pacer.rate == pytest.approx(38 / (1.0 + CREDIT) * MARGIN)
    assert pacer.cuts == 1


def test_the_429s_of_requests_in_flight_at_the_cut_are_the_same_event():
    clock = Clock()
    pacer = learnt(clock)
    rate, cut_at = pacer.rate, clock.now
    clock.now += 0.05
    for _ in range(3):
        pacer.throttled(sent_at=cut_at - 0.05)  # sent before the cut, answered after it
    assert pacer.rate == rate and pacer.cuts == 1


def test_too_few_answers_teach_nothing():
    clock = Clock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    answer(pacer, clock, MIN_SAMPLE - 1, 0.01)
    pacer.throttled(sent_at=clock.now)
    assert pacer.rate is None and pacer.cuts == 0
    assert pacer.wait() == 0.0  # still unpaced


def test_requests_are_spaced_by_one_over_the_rate_after_a_seconds_worth_at_once():
    clock = Clock()
    pacer = learnt(clock)
    rate = pacer.rate
    at_once = 0
    while pacer.wait() == 0.0:
        at_once += 1
    # The budget refilled during the lull: a second's worth goes at once, no more.
    assert at_once == int(rate * CREDIT)
    gaps = [pacer.wait() for _ in range(10)]
    assert all(gap == pytest.approx(1 / rate, rel=0.01) for gap in gaps)


def test_the_rate_grows_slowly_while_it_is_what_limits():
    clock = Clock()
    pacer = learnt(clock)
    rate = pacer.rate
    sent = 0
    end = clock.now + 10
    while clock.now < end:
        pacer.wait()
        sent += 1
    # About GROWTH of the learnt rate per second: +10 % in 10 s, not a doubling.
    assert pacer.rate == pytest.approx(rate * (1 + 10 * GROWTH), rel=0.01)
    assert rate * 10 < sent < rate * 10 * (1 + 10 * GROWTH) + rate * CREDIT + 1


def test_the_next_429_cuts_the_rate_to_what_was_answered_since_the_last():
    clock = Clock()
    pacer = learnt(clock)
    rate = pacer.rate
    clock.now += 1.0  # the Retry-After pause
    answer(pacer, clock, 72, 0.05)  # 72 answers in the 4.6 s since the cut
    pacer.throttled(sent_at=clock.now - 0.1)
    # From empty to empty: no budget counted, only what was answered in between.
    assert pacer.rate == pytest.approx(72 / 4.6 * MARGIN)
    assert pacer.rate < rate and pacer.cuts == 2


def test_a_cut_never_raises_the_rate():
    clock = Clock()
    pacer = learnt(clock)
    rate = pacer.rate
    clock.now += 1.0
    answer(pacer, clock, 100, 0.02)  # faster than paced (slots caught up on, say)
    pacer.throttled(sent_at=clock.now)
    assert pacer.rate == pytest.approx(rate * MARGIN)


def test_threads_share_the_slots_and_never_sleep_holding_the_lock():
    """Forty requests from four threads take forty distinct slots; each sleeps with the lock
    free (the sleep itself records an answer, which takes the lock: held, it would hang)."""
    slots: list[float] = []
    guard = threading.Lock()

    def sleep(seconds: float) -> None:  # the clock stands still: a delay is its slot's distance
        pacer.answered()
        with guard:
            slots.append(seconds)

    pacer = learnt(Clock(), sleep)
    for _ in range(int(pacer.rate * CREDIT)):
        pacer.wait()  # the second's worth that goes at once
    threads = [threading.Thread(target=lambda: [pacer.wait() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert len(slots) == 40 and len({round(s, 9) for s in slots}) == 40
    ordered = sorted(slots)
    gaps = [b - a for a, b in pairwise(ordered)]
    assert all(gap == pytest.approx(1 / pacer.rate, rel=0.05) for gap in gaps)


@pytest.mark.slow
def test_once_the_rate_is_learnt_the_429s_stop(make_udemy_sandbox, monkeypatch):
    """At 100 ms a page, 2 pages in flight make 20 requests/s and 3 make 30: against a limit
    of 20, concurrency alone meets a 429 every fifty pages or so. Paced, only the requests in
    flight at the first 429 meet one."""
    monkeypatch.setattr(pages_module, "PAGE_SIZE", 1)  # one course a page: many pages, fast
    pages = 120
    sandbox = make_udemy_sandbox(
        courses=pages, paths=0, learners=1, latency=0.1, rate_limit=20, burst=20
    )
    client = UdemyClient(sandbox.credentials(), allowed_hosts=LOOPBACK)
    client.page_concurrency = 4
    assert [p.number for p in client.iter_course_pages()] == list(range(1, pages + 1))
    refused = [
        int(parse_qs(e["query"])["page"][0]) for e in sandbox.request_log if e["status"] == 429
    ]
    assert refused and client.throttle.pacer.rate is not None  # the limit was met, and learnt
    # Past the pages in flight at the first 429 (and their retries), none is refused.
    assert [page for page in refused if page > refused[0] + 2 * 4] == []
