"""UdemyClient against the loopback sandbox: real sockets, real headers, real timeouts."""

from __future__ import annotations

import base64
import dataclasses
import logging
import math
import socket
from collections.abc import Callable

import pytest

from integrations.providers.udemy.client import (
    UdemyAuthError,
    UdemyBadResponse,
    UdemyClient,
    UdemyConfigError,
    UdemyCredentials,
    UdemyError,
    UdemyNotFound,
    UdemyRetryLater,
    UdemyUnavailable,
)
from integrations.sandboxes.udemy import UdemySandbox

LOOPBACK = ["127.0.0.1", "localhost"]


class Sleeps(list):
    """A `sleep` that records instead of sleeping: tests assert on waits, never on wall time."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(sandbox: UdemySandbox, **kwargs) -> UdemyClient:
    kwargs.setdefault("allowed_hosts", LOOPBACK)
    kwargs.setdefault("backoff_base", 0.001)
    kwargs.setdefault("sleep", Sleeps())
    credentials = kwargs.pop("credentials", None) or sandbox.credentials()
    return UdemyClient(credentials, **kwargs)


def with_(credentials: UdemyCredentials, **changes) -> UdemyCredentials:
    return dataclasses.replace(credentials, **changes)


def all_ids(pages) -> list[int]:
    return [item["id"] for page in pages for item in page.results]


# --------------------------------------------------------------------------- paging


def test_pages_through_1050_courses(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=1050, paths=0, learners=1)
    with client_for(sandbox) as client:
        pages = list(client.iter_course_pages())
    assert [p.number for p in pages] == list(range(1, 12))
    assert all_ids(pages) == [c["id"] for c in sandbox.data.courses]
    assert pages[0].count == 1050
    assert [len(p.results) for p in pages] == [100] * 10 + [50]
    assert pages[-1].next_url is None
    assert client.request_count == 11 == len(sandbox.request_log)
    query = sandbox.request_log[0]["query"]
    assert "page_size=100" in query
    assert "fields%5Bcourses%5D=@all" in query or "fields[courses]=@all" in query


@pytest.mark.parametrize("n", [1, 100, 101, 250])
def test_one_request_per_hundred_items(make_udemy_sandbox, n):
    sandbox = make_udemy_sandbox(courses=n, paths=0, learners=1)
    client = client_for(sandbox)
    assert len(all_ids(client.iter_course_pages())) == n
    assert client.request_count == math.ceil(n / 100) == len(sandbox.request_log)


def test_pages_are_streamed_one_request_at_a_time(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    pages = client_for(sandbox).iter_course_pages()
    assert sandbox.request_log == []  # a generator: nothing is fetched before it is consumed
    next(pages)
    assert len(sandbox.request_log) == 1


def test_learning_paths_and_activity_streams(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=30, paths=5, learners=25)
    client = client_for(sandbox)
    assert all_ids(client.iter_learning_path_pages()) == [
        p["id"] for p in sandbox.data.learning_paths
    ]
    rows = [r for page in client.iter_user_course_activity_pages() for r in page.results]
    assert rows == sandbox.data.activity
    paths = [entry["path"] for entry in sandbox.request_log]
    assert paths[0].endswith("/learning-paths/list/")
    assert paths[-1].endswith("/analytics/user-course-activity/")


def test_resume_from_a_start_page(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    client = client_for(sandbox)
    ids = [c["id"] for c in sandbox.data.courses]
    assert [p.number for p in client.iter_course_pages(start_page=2)] == [2, 3]
    (page,) = client.iter_course_pages(start_page=3)
    assert [c["id"] for c in page.results] == ids[200:]


def test_resume_past_the_last_page_is_an_empty_stream(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    client = client_for(sandbox)
    assert list(client.iter_course_pages(start_page=4)) == []
    assert [e["status"] for e in sandbox.request_log] == [400]


def test_a_catalog_shrinking_mid_scan_is_an_error_not_a_short_scan(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    pages = client_for(sandbox).iter_course_pages()
    next(pages)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses[50:]])
    with pytest.raises(UdemyError) as info:
        next(pages)
    assert info.value.status == 400
    assert "Invalid page" in info.value.message


@pytest.mark.parametrize("link_base", ["http://evil.example.com", "http://127.0.0.1:9"])
def test_a_next_link_to_another_origin_is_refused(make_udemy_sandbox, link_base):
    sandbox = make_udemy_sandbox(courses=150, paths=0, learners=1)
    sandbox.link_base_url = link_base
    pages = client_for(sandbox).iter_course_pages()
    assert len(next(pages).results) == 100
    with pytest.raises(UdemyBadResponse, match="another server"):
        next(pages)
    assert len(sandbox.request_log) == 1  # the foreign URL was never requested


# --------------------------------------------------------------------------- rate limits


def test_429_waits_retry_after_then_completes(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    sandbox.fail(path_contains="page=2", status=429, retry_after=2)
    sleeps = Sleeps()
    client = client_for(sandbox, sleep=sleeps)
    # One page at a time: with several in flight, another page's request also pauses for the
    # 429 (the budget is the organization's), which would add a sleep of that thread here.
    client.page_concurrency = 1
    assert len(all_ids(client.iter_course_pages())) == 250
    assert client.waits == [2.0] == sleeps
    assert [e["status"] for e in sandbox.request_log] == [200, 429, 200, 200]
    assert client.request_count == 4


def test_429_beyond_the_cap_raises_retry_later_without_sleeping(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=429, retry_after=3600)
    client = client_for(sandbox, retry_after_cap=60)
    with pytest.raises(UdemyRetryLater) as info:
        list(client.iter_course_pages())
    assert info.value.retry_after == 3600.0
    assert info.value.status == 429
    assert client.waits == []
    assert client.request_count == 1


def test_429_without_usable_retry_after_backs_off(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=429, times=2)  # no header at all
    client = client_for(sandbox, backoff_base=0.5, backoff_max=30)
    assert len(all_ids(client.iter_course_pages())) == 25
    assert len(client.waits) == 2
    assert 0 <= client.waits[0] <= 0.5
    assert 0 <= client.waits[1] <= 1.0


def test_429_that_never_ends_is_bounded_by_max_retries(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=429, retry_after=1, times=10)
    client = client_for(sandbox, max_retries=3)
    with pytest.raises(UdemyRetryLater) as info:
        list(client.iter_course_pages())
    assert client.request_count == 4
    assert client.waits == [1.0, 1.0, 1.0]
    assert info.value.retry_after == 1.0


# --------------------------------------------------------------------------- 5xx and network


def test_a_5xx_burst_is_retried_with_backoff(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=150, paths=0, learners=1)
    sandbox.fail(path_contains="page=2", status=503, times=2)
    client = client_for(sandbox, backoff_base=0.01, backoff_max=1)
    assert len(all_ids(client.iter_course_pages())) == 150
    assert client.request_count == 4
    assert len(client.waits) == 2
    assert 0 <= client.waits[0] <= 0.01
    assert 0 <= client.waits[1] <= 0.02


def test_5xx_beyond_max_retries_is_unavailable(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=502, times=10, body="html")
    client = client_for(sandbox, max_retries=2)
    with pytest.raises(UdemyUnavailable) as info:
        list(client.iter_course_pages())
    assert client.request_count == 3
    assert info.value.status == 502
    assert "after 3 attempts" in info.value.message
    assert "<title>502" in info.value.excerpt


def test_a_hanging_server_is_a_read_timeout(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(body="hang", hang_seconds=2, times=2)
    client = client_for(sandbox, read_timeout=0.5, max_retries=1)
    with pytest.raises(UdemyUnavailable) as info:
        list(client.iter_course_pages())
    assert "0.5 s (read timeout) after 2 attempts" in info.value.message
    assert client.request_count == 2


def test_one_timeout_then_recovery(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(body="hang", hang_seconds=2)
    client = client_for(sandbox, read_timeout=0.5)
    assert len(all_ids(client.iter_course_pages())) == 25
    assert client.request_count == 2


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_unavailable_after_retries():
    credentials = UdemyCredentials(
        "id", "secret", "demo", "4242", api_base_url=f"http://127.0.0.1:{closed_port()}/api/"
    )
    client = UdemyClient(credentials, allowed_hosts=LOOPBACK, max_retries=2, sleep=Sleeps())
    with pytest.raises(UdemyUnavailable, match="could not be reached") as info:
        list(client.iter_course_pages())
    assert "after 3 attempts" in info.value.message
    assert len(client.waits) == 2


# --------------------------------------------------------------------------- fail fast


def test_401_stops_at_once_with_an_admin_message(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    client = client_for(sandbox, credentials=with_(sandbox.credentials(), client_secret="wrong"))
    with pytest.raises(UdemyAuthError) as info:
        list(client.iter_course_pages())
    assert info.value.message == (
        "Udemy rejected the credentials (401): check client_id and client_secret."
    )
    assert info.value.status == 401
    assert client.request_count == 1 == len(sandbox.request_log)


def test_403_stops_at_once(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=403, times=5)
    client = client_for(sandbox)
    with pytest.raises(UdemyAuthError, match=r"refused access \(403\)"):
        list(client.iter_learning_path_pages())
    assert client.request_count == 1


def test_wrong_organization_is_not_found(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    base = sandbox.api_base_url.replace("/4242/", "/999/")
    client = client_for(
        sandbox, credentials=with_(sandbox.credentials(), organization_id="999", api_base_url=base)
    )
    with pytest.raises(UdemyNotFound) as info:
        list(client.iter_course_pages())
    assert info.value.message == (
        "Udemy has no organization 999 at 127.0.0.1: check organization_name and organization_id."
    )


def test_an_html_body_is_retried_then_a_bad_response_with_an_excerpt(make_udemy_sandbox):
    """An HTML page with 200 (a proxy's error page) is a passing fault like a 5xx: retried with
    the same budget, then a clear error with an excerpt."""
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=200, body="html", times=50)
    client = client_for(sandbox, max_retries=3)
    with pytest.raises(UdemyBadResponse) as info:
        list(client.iter_course_pages())
    assert info.value.excerpt.startswith("<!DOCTYPE html>")
    assert len(info.value.excerpt) <= 200
    assert "text/html" in info.value.message
    assert client.request_count == 4  # the first try and 3 retries


@pytest.mark.parametrize("body", ["truncated", "html", "empty"])
def test_a_passing_body_fault_heals_on_retry(make_udemy_sandbox, body):
    """Transient body faults are retried: a truncated, empty or non-JSON body on one page does
    not end the stream."""
    sandbox = make_udemy_sandbox(courses=250)
    sandbox.fail(status=200, body=body, times=2, path_contains="page=2")
    client = client_for(sandbox)
    items = [item for page in client.iter_course_pages() for item in page.results]
    assert len(items) == 250
    assert client.request_count == 3 + 2  # three pages, two of them retried on page 2


def test_truncated_json_is_a_bad_response(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=200, body="truncated", times=50)
    client = client_for(sandbox, max_retries=2)
    with pytest.raises(UdemyBadResponse) as info:
        list(client.iter_course_pages())
    assert info.value.excerpt.startswith('{"count": 25')
    assert client.request_count == 3


def test_json_that_is_not_a_page_is_a_bad_response(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    sandbox.fail(status=200, body="json")
    with pytest.raises(UdemyBadResponse, match="not a page"):
        list(client_for(sandbox).iter_course_pages())


# --------------------------------------------------------------------------- base URL


def creds(**changes) -> UdemyCredentials:
    base = {
        "client_id": "id",
        "client_secret": "secret",
        "organization_name": "acme",
        "organization_id": "8888",
    }
    return UdemyCredentials(**{**base, **changes})


def test_the_base_url_is_derived_from_the_organization():
    client = UdemyClient(creds(), allowed_hosts=[])
    assert client.base_url == "https://acme.udemy.com/api-2.0/organizations/8888/"


@pytest.mark.parametrize("name", ["acme.evil.com", "x@evil.com", "a/b", "evil.com#", ""])
def test_organization_names_cannot_smuggle_a_host(name):
    with pytest.raises(UdemyConfigError):
        UdemyClient(creds(organization_name=name), allowed_hosts=["*.udemy.com"])


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/api-2.0/organizations/8888/",
        "http://acme.udemy.com/api-2.0/organizations/8888/",  # plain http off loopback
        "https://acme.udemy.com.evil.example.com/api-2.0/",
        "https://user:pw@acme.udemy.com/api-2.0/",
        "https://evil.example.com\\@acme.udemy.com/",
        "ftp://acme.udemy.com/",
        "https://acme.udemy.com/api-2.0/?x=1",
        "/api-2.0/organizations/8888/",
    ],
)
def test_an_override_outside_the_allow_list_is_refused(url):
    with pytest.raises(UdemyConfigError):
        UdemyClient(creds(api_base_url=url), allowed_hosts=["*.udemy.com", "127.0.0.1"])


@pytest.mark.parametrize(
    "url",
    [
        "https://eu.udemy.com/api-2.0/organizations/8888/",
        "https://ACME.udemy.com/api-2.0/organizations/8888",
        "http://127.0.0.1:8001/api-2.0/organizations/8888/",
    ],
)
def test_an_allowed_override_is_accepted(url):
    client = UdemyClient(creds(api_base_url=url), allowed_hosts=["*.udemy.com", "127.0.0.1"])
    assert client.base_url.endswith("/")


def test_the_allow_list_defaults_to_the_setting(settings):
    settings.UDEMY_ALLOWED_API_HOSTS = ["*.udemy.com"]
    with pytest.raises(UdemyConfigError, match="not in the allowed list"):
        UdemyClient(creds(api_base_url="http://127.0.0.1:8001/api-2.0/organizations/8888/"))


# --------------------------------------------------------------------------- check_credentials


def test_check_credentials_ok(udemy_sandbox):
    check = client_for(udemy_sandbox).check_credentials()
    assert (check.ok, check.verdict) == (True, "ok")
    assert "25 courses" in check.message
    assert udemy_sandbox.request_log[0]["query"] == "page_size=1"


@pytest.mark.parametrize(
    ("setup", "verdict"),
    [
        (lambda sb, c: (None, with_(c, client_secret="nope")), "bad_credentials"),
        (lambda sb, c: (sb.fail(status=403), c), "no_api_access"),
        (
            lambda sb, c: (None, with_(c, api_base_url=c.api_base_url.replace("4242", "1"))),
            "wrong_organization",
        ),
        (lambda sb, c: (sb.fail(status=200, body="html", times=2), c), "bad_response"),
        (lambda sb, c: (sb.fail(status=429, retry_after=30), c), "unreachable"),
        (lambda sb, c: (sb.fail(status=503, times=5), c), "unreachable"),
    ],
)
def test_check_credentials_verdicts(udemy_sandbox, setup: Callable, verdict: str):
    _, credentials = setup(udemy_sandbox, udemy_sandbox.credentials())
    client = client_for(udemy_sandbox, credentials=credentials)
    check = client.check_credentials()
    assert (check.ok, check.verdict) == (False, verdict)
    assert check.message.startswith("Udemy")
    assert client.waits == [] or max(client.waits) < 1  # never blocks a web request


def test_check_credentials_on_a_closed_port_is_unreachable():
    url = f"http://127.0.0.1:{closed_port()}/api-2.0/organizations/4242/"
    client = UdemyClient(creds(api_base_url=url), allowed_hosts=LOOPBACK, sleep=Sleeps())
    check = client.check_credentials()
    assert (check.ok, check.verdict) == (False, "unreachable")
    assert "connection refused" in check.message


# --------------------------------------------------------------------------- secrets


SECRET = "s3cr3t-VALUE-never-logged"


def test_the_secret_never_reaches_logs_or_errors(make_udemy_sandbox, caplog):
    sandbox = make_udemy_sandbox(client_secret=SECRET)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    token = base64.b64encode(f"{sandbox.client_id}:{SECRET}".encode()).decode()
    client = client_for(sandbox, max_retries=2)
    texts = [repr(sandbox.credentials()), repr(client), str(sandbox.credentials())]
    sandbox.fail(status=503, times=3, body="html")
    sandbox.fail(status=200, body="truncated", times=3)
    sandbox.fail(status=429, retry_after=999)
    for _ in range(3):
        with pytest.raises(UdemyError) as info:
            list(client.iter_course_pages())
        texts += [info.value.message, info.value.excerpt, str(info.value), repr(info.value)]
    bad = client_for(sandbox, credentials=with_(sandbox.credentials(), client_secret=SECRET + "x"))
    with pytest.raises(UdemyAuthError) as info:
        list(bad.iter_course_pages())
    texts += [info.value.message, info.value.excerpt, bad.check_credentials().message]
    assert "retry 1/2" in caplog.text  # the failing sync was logged...
    assert "urllib3" in {r.name.split(".")[0] for r in caplog.records}
    for text in [caplog.text, *texts]:  # ...without the secret in any form
        assert SECRET not in text
        assert token not in text


def test_credentials_repr_hides_the_secret():
    credentials = creds(client_secret=SECRET)
    assert SECRET not in repr(credentials)
    assert "client_id='id'" in repr(credentials)


def test_an_error_body_echoing_the_credentials_is_scrubbed():
    client = UdemyClient(creds(client_id="id", client_secret=SECRET), allowed_hosts=[])
    token = base64.b64encode(f"id:{SECRET}".encode()).decode()
    excerpt = client._excerpt(f"<p>Authorization: Basic {token}</p><p>id:{SECRET}</p>{SECRET}")
    assert SECRET not in excerpt
    assert token not in excerpt
    assert excerpt == "<p>Authorization: Basic ***</p><p>***</p>***"


def test_errors_do_not_chain_the_request_that_carried_the_credentials():
    url = f"http://127.0.0.1:{closed_port()}/api-2.0/organizations/4242/"
    client = UdemyClient(creds(api_base_url=url), allowed_hosts=LOOPBACK, max_retries=0)
    with pytest.raises(UdemyUnavailable) as info:
        list(client.iter_course_pages())
    assert info.value.__suppress_context__
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    ("count", "valid"),
    [
        (0, True),
        (312, True),
        (None, True),
        (-5, False),
        (10**30, False),
        (1e30, False),
        (True, False),
        ("3", False),
    ],
)
def test_a_page_count_must_be_a_bounded_whole_number(count, valid) -> None:
    """`count: -5` or `10**30` used to reach the database (IntegrityError, OverflowError): such a
    page is a bad response, like any other payload that is not the documented one."""
    from integrations.providers.udemy.pages import _is_envelope

    page = {"count": count, "next": None, "previous": None, "results": []}
    assert _is_envelope(page) is valid
