"""Promise (Syncs): "5xx and network errors retry with backoff and jitter, bounded; … an HTML or
garbled body is a classified error, never an empty page" — through the whole sync, against the
sandbox on a real socket (timeouts and retries are only real on a real socket)."""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qs

import pytest

from catalog.models import Course
from integrations.models import SyncError, SyncPage, SyncRun
from integrations.providers.udemy import provider
from integrations.providers.udemy.client import UdemyClient

pytestmark = pytest.mark.django_db

COURSES = 250  # three pages of 100


@pytest.fixture
def fast_backoff(monkeypatch) -> None:
    """Keep the real retry loop, with millisecond backoff: the test is about counts, not waits."""

    def make_client(integration):
        return UdemyClient(provider.credentials_for(integration), backoff_base=0.005)

    monkeypatch.setattr(provider, "make_client", make_client)


@pytest.fixture
def sandbox(make_udemy_sandbox):
    return make_udemy_sandbox(courses=COURSES, paths=0, learners=1)


def course_requests(sandbox) -> list[str]:
    return [
        parse_qs(entry["query"]).get("page", ["1"])[0]
        for entry in sandbox.request_log
        if entry["path"].endswith("courses/list/")
    ]


def test_a_hung_upstream_hits_the_read_timeout_and_frees_the_worker(
    sandbox, make_integration, run_sync, settings, fast_backoff
):
    settings.UDEMY_READ_TIMEOUT = 0.5
    settings.UDEMY_MAX_RETRIES = 1
    sandbox.fail(path_contains="page=2", status=200, body="hang", hang_seconds=30, times=5)
    run = run_sync(make_integration(sandbox))
    # Both hung requests (the first and its retry) are still hanging upstream: the sync did not
    # wait them out (counted, not timed).
    assert sandbox.state()["in_flight"] == 2
    assert run.status == SyncRun.Status.PARTIAL  # page 1 was committed
    error = SyncError.objects.get(run=run)
    assert error.category == "UdemyUnavailable"
    assert "read timeout" in error.message and "0.5 s" in error.message
    assert "read timeout" in run.error_summary
    requested = course_requests(sandbox)
    assert requested.count("2") == 2  # one retry, bounded (page 3 may be fetched meanwhile)
    assert requested[0] == "1" and set(requested) <= {"1", "2", "3"}
    assert (run.archived, run.archival_decision) == (0, "skipped")  # a failed scan archives nothing


@pytest.mark.parametrize(
    ("status", "body", "category", "says"),
    [
        (200, "html", "UdemyBadResponse", "not JSON (text/html)"),
        (200, "truncated", "UdemyBadResponse", "not JSON"),
        (200, "json", "UdemyBadResponse", "not a page"),
        (502, "html", "UdemyUnavailable", "Udemy answered 502"),
    ],
    ids=["html-200", "truncated-json", "json-not-a-page", "html-502-burst"],
)
def test_a_garbled_page_is_a_classified_error_never_an_empty_page(
    sandbox, make_integration, run_sync, settings, fast_backoff, status, body, category, says
):
    settings.UDEMY_MAX_RETRIES = 2
    sandbox.fail(path_contains="page=2", status=status, body=body, times=3)
    integration = make_integration(sandbox)
    run = run_sync(integration)
    assert run.status == SyncRun.Status.PARTIAL
    error = SyncError.objects.get(run=run)
    assert (error.category, error.external_id) == (category, "")
    assert says in error.message
    assert error.excerpt, "the body's start is kept for the admin"
    pages = list(SyncPage.objects.filter(run=run).values_list("number", "external_ids"))
    assert [(number, len(ids)) for number, ids in pages] == [(1, 100)]  # no empty page 2
    assert run.fetched == 100
    assert Course.objects.filter(integration=integration).count() == 100
    assert (run.archived, run.archival_decision) == (0, "skipped")  # and says why


def test_a_5xx_burst_is_retried_and_the_sync_recovers(
    sandbox, make_integration, run_sync, settings, fast_backoff
):
    settings.UDEMY_MAX_RETRIES = 3
    sandbox.fail(path_contains="page=2", status=503, times=3)
    sandbox.fail(path_contains="page=3", status=500, times=1)
    integration = make_integration(sandbox)
    run = run_sync(integration)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert not SyncError.objects.filter(run=run).exists()
    requests = course_requests(sandbox)
    assert len(requests) == 3 + 4  # pages + retries
    # pages 2 and 3 are fetched at once: their retries interleave
    assert sorted(requests) == ["1", "2", "2", "2", "2", "3", "3"]
    assert run.fetched == Course.objects.filter(integration=integration).count() == COURSES


def test_a_5xx_burst_longer_than_the_retries_fails_the_run_bounded(
    sandbox, make_integration, run_sync, settings, fast_backoff
):
    settings.UDEMY_MAX_RETRIES = 3
    sandbox.fail(status=503, times=100)
    run = run_sync(make_integration(sandbox))
    assert run.status == SyncRun.Status.FAILED
    assert "after 4 attempts" in SyncError.objects.get(run=run).message
    assert len(course_requests(sandbox)) == 4


def test_the_real_backoff_grows_and_stays_bounded(make_udemy_sandbox):
    """Without the fast fixture: the waits of a burst are jittered below the doubling ceiling."""
    sandbox = make_udemy_sandbox(courses=5)
    sandbox.fail(status=503, times=3)
    waits: list[float] = []
    client = UdemyClient(sandbox.credentials(), max_retries=3, sleep=waits.append)
    assert sum(len(page.results) for page in client.iter_course_pages()) == 5
    ceilings = [partial(min, 30.0)(0.5 * 2**n) for n in range(3)]
    assert len(waits) == 3
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))
