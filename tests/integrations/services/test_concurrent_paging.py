"""Pages by number fetched several at once (UDEMY_PAGE_CONCURRENCY), committed in order: K
requests really in flight, the same pages and items as one at a time, a 429 storm halves K and
the run still succeeds, a list that changes while it is read archives nothing."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from catalog.models import Course
from integrations.core.throttle import AdaptiveLimit
from integrations.models import SyncPage, SyncRun
from integrations.providers.udemy.client import UdemyClient

pytestmark = pytest.mark.django_db

LOOPBACK = ["127.0.0.1", "localhost"]


def pages_requested(sandbox, path="courses/list") -> list[int]:
    return [
        int(parse_qs(e["query"]).get("page", ["1"])[0])
        for e in sandbox.request_log
        if path in e["path"]
    ]


def test_k_pages_are_in_flight_and_committed_in_order(
    make_udemy_sandbox, make_integration, run_sync, settings
):
    settings.UDEMY_PAGE_CONCURRENCY = 4
    sandbox = make_udemy_sandbox(courses=1200, paths=0, learners=1, latency=0.15)
    run = run_sync(make_integration(sandbox))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert sandbox.max_in_flight == 4  # really four at once, never more
    assert sorted(pages_requested(sandbox)) == list(range(1, 13))  # each page once
    assert run.created == 1200 and Course.objects.count() == 1200
    committed = list(
        SyncPage.objects.filter(run=run, stream="courses")
        .order_by("id")
        .values_list("number", flat=True)
    )
    assert committed == list(range(1, 13))  # in order, whatever order they arrived in


def test_one_at_a_time_when_told(make_udemy_sandbox, make_integration, run_sync, settings):
    settings.UDEMY_PAGE_CONCURRENCY = 1
    sandbox = make_udemy_sandbox(courses=500, paths=0, learners=1, latency=0.05)
    run = run_sync(make_integration(sandbox))
    assert run.created == 500 and sandbox.max_in_flight == 1


def test_a_429_storm_halves_the_concurrency_and_the_run_succeeds(
    make_udemy_sandbox, make_integration, run_sync, settings
):
    settings.UDEMY_PAGE_CONCURRENCY = 8
    sandbox = make_udemy_sandbox(courses=1500, paths=0, learners=1, rate_limit=6, burst=3)
    integration = make_integration(sandbox)
    client = UdemyClient(sandbox.credentials(), allowed_hosts=LOOPBACK)
    pages = list(client.iter_course_pages())
    assert sum(len(p.results) for p in pages) == 1500 and [p.number for p in pages] == list(
        range(1, 16)
    )
    assert client.throttled >= 1 and client.throttle.limit.lowest < 8  # it backed off
    run = run_sync(integration)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert run.created == 1500


def test_a_list_that_changes_while_read_archives_nothing(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=400, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses[:10]])
    served = {"n": 0}

    def grow_after_first_page(entry):
        served["n"] += 1
        if served["n"] == 1:
            sandbox.data.add_courses(30)  # the catalog grows between page 1 and the others

    sandbox.after_reply = grow_after_first_page
    run = run_sync(integration)
    assert run.archival_decision == "skipped"
    assert "unstable" in run.archival_reason and "390 → 420" in run.archival_reason
    assert run.archived == 0
    assert run.streams[0].done == 420  # the grown tail was read by `next`, one page at a time


def test_the_limit_is_halved_once_per_burst_and_grows_back_more_patiently():
    """Four fetches in flight all meet the 429 of one spent budget: one halving (4 → 2), not
    three (4 → 1). The next increase takes twice as many clean fetches as before the 429."""
    limit = AdaptiveLimit(4)
    for _ in range(4):
        limit.throttled()
    assert limit.value == 2 and limit.lowest == 2
    limit.throttled()  # a fetch sent after the halving: a new event
    assert limit.value == 1
    assert limit.patience == 4  # two halvings: 4 × value clean fetches for one more
    for _ in range(3):
        limit.succeeded()
    assert limit.value == 1
    limit.succeeded()
    assert limit.value == 2
    limit = AdaptiveLimit(3)
    limit.throttled()
    assert limit.value == 2  # rounded up: never below half
