"""The sandboxes can be as strict as a rate-limited API: a token bucket answers 429 with
Retry-After once the burst is spent, refills at its rate; latency gets jitter; the server
records how many requests it answered at once."""

from __future__ import annotations

import threading

import requests

from integrations.sandboxes.udemy import UdemyData, UdemySandbox


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def get(sandbox: UdemySandbox) -> requests.Response:
    return requests.get(
        f"{sandbox.api_base_url}courses/list/",
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=5,
    )


def test_the_bucket_refuses_past_the_burst_then_refills():
    clock = Clock()
    sandbox = UdemySandbox(UdemyData.generate(courses=5), rate_limit=5, burst=3, clock=clock)
    with sandbox.start():
        statuses = [get(sandbox).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = get(sandbox)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"  # whole seconds, at least one
        assert "throttled" in refused.json()["detail"]
        clock.now += 0.2  # one token at 5 per second
        assert [get(sandbox).status_code for _ in range(2)] == [200, 429]
        assert sandbox.state()["throttled"] == 3


def test_the_limit_is_set_by_the_control_api():
    sandbox = UdemySandbox(UdemyData.generate(courses=5), clock=Clock())
    with sandbox.start():
        assert all(get(sandbox).status_code == 200 for _ in range(5))
        sandbox.apply_scenario({"rate_limit": 2, "burst": 1})
        assert [get(sandbox).status_code for _ in range(2)] == [200, 429]
        sandbox.apply_scenario({"rate_limit": 0})
        assert get(sandbox).status_code == 200


def test_jitter_is_random_extra_latency():
    sandbox = UdemySandbox(UdemyData.generate(courses=5), latency=0.01, jitter=0.05, seed=3)
    delays = [
        sandbox.respond("GET", "/api-2.0/organizations/4242/courses/list/", {}, b"").delay
        for _ in range(20)
    ]
    assert all(0.01 <= d <= 0.06 for d in delays)
    assert len({round(d, 6) for d in delays}) > 10


def test_the_server_records_requests_in_flight():
    sandbox = UdemySandbox(UdemyData.generate(courses=5), latency=0.3)
    with sandbox.start():
        threads = [threading.Thread(target=get, args=(sandbox,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sandbox.max_in_flight == 3
