"""The platform clients against their sandboxes over real sockets: auth, paging, rate limits,
retries, error mapping, the host allow-list, and secrets kept out of every message."""

from __future__ import annotations

import time

import pytest

from integrations.platforms.base import (
    PlatformAuthError,
    PlatformBadResponse,
    PlatformConfigError,
    PlatformNotFound,
    PlatformRejected,
    PlatformRetryLater,
    PlatformUnavailable,
)
from integrations.platforms.coursebase.client import CoursebaseClient, CoursebaseCredentials
from integrations.platforms.learnupon.client import LearnUponClient, LearnUponCredentials

from .conftest import CB_SECRET, LU_SECRET


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def lu_client(sandbox, **kwargs) -> LearnUponClient:
    kwargs.setdefault("sleep", Sleeps())
    return LearnUponClient(sandbox.credentials(), **kwargs)


# --------------------------------------------------------------------------- LearnUpon


def test_learnupon_pages_follow_the_has_next_page_header(make_learnupon_sandbox):
    sandbox = make_learnupon_sandbox(users=12, page_size=5)  # the page size is dynamic
    pages = list(lu_client(sandbox).iter_user_pages())
    assert [len(p) for p in pages] == [5, 5, 3]
    assert [e["query"] for e in sandbox.request_log] == ["page=1", "page=2", "page=3"]


def test_learnupon_uses_basic_auth_and_maps_401(learnupon_sandbox):
    client = LearnUponClient(learnupon_sandbox.credentials(password="nope-wrong"))
    with pytest.raises(PlatformAuthError) as caught:
        list(client.iter_group_pages())
    assert "rejected the API credentials (401: Not authorised)" in caught.value.message


def test_learnupon_slows_down_when_the_minute_budget_runs_low(learnupon_sandbox, settings):
    settings.LEARNUPON_THROTTLE_MAX_WAIT = 60
    sleeps = Sleeps()
    client = lu_client(learnupon_sandbox, sleep=sleeps, clock=lambda: 999_980.0)  # hh:mm:20
    learnupon_sandbox.throttle(remaining=3, times=1)
    learnupon_sandbox.throttle(remaining=0, times=1)
    client.call("GET", "groups")
    client.call("GET", "groups")
    client.call("GET", "groups")  # the budget is back: no wait
    # 40 s left in the minute: 3 requests left → spread them (40/4), none left → wait it out
    assert sleeps == [10.0, pytest.approx(40.0)]
    assert client.waits == sleeps
    assert client.remaining_minute == 997  # the sandbox counts each request down


def test_learnupon_waits_are_capped(learnupon_sandbox, settings):
    settings.LEARNUPON_THROTTLE_MAX_WAIT = 2.5
    sleeps = Sleeps()
    client = lu_client(learnupon_sandbox, sleep=sleeps, clock=lambda: 0.0)
    learnupon_sandbox.throttle(remaining=0)
    client.call("GET", "groups")
    assert sleeps == [2.5]


def test_a_429_honours_retry_after_and_loses_nothing(learnupon_sandbox):
    sleeps = Sleeps()
    learnupon_sandbox.fail(status=429, retry_after=2, path_contains="groups", times=2)
    groups = next(lu_client(learnupon_sandbox, sleep=sleeps).iter_group_pages())
    assert len(groups) == 4
    assert sleeps == [2.0, 2.0]


def test_a_429s_pause_goes_through_the_clients_throttle_unpaced(learnupon_sandbox, settings):
    settings.PLATFORM_RETRY_AFTER_CAP = 60
    sleeps = Sleeps()
    learnupon_sandbox.fail(status=429, retry_after=30, path_contains="groups")
    client = lu_client(learnupon_sandbox, sleep=sleeps)
    client.call("GET", "groups")
    assert sleeps == [30.0] and client.throttled == client.throttle.refusals == 1
    assert client.throttle.pacer is None  # no pace learnt: LearnUpon's headers say its own
    assert client.throttle.pause_epoch() > time.time() + 20  # what a shared budget would get


def test_a_429_without_retry_after_waits_for_the_next_minute(learnupon_sandbox, settings):
    settings.LEARNUPON_THROTTLE_MAX_WAIT = settings.PLATFORM_RETRY_AFTER_CAP = 60
    sleeps = Sleeps()
    learnupon_sandbox.fail(status=429, path_contains="groups")
    client = lu_client(learnupon_sandbox, sleep=sleeps, clock=lambda: 1_000_010.0)  # hh:mm:50
    client.call("GET", "groups")
    assert sleeps == [pytest.approx(11.0)]  # 10 s left in the minute, plus one


def test_a_long_retry_after_raises_retry_later(learnupon_sandbox):
    learnupon_sandbox.fail(status=429, retry_after=3600, path_contains="courses")
    with pytest.raises(PlatformRetryLater) as caught:
        lu_client(learnupon_sandbox).create_course({"name": "x", "owner_id": 1})
    assert caught.value.retry_after == 3600
    assert "exceeded limit on API requests" in caught.value.excerpt


def test_writes_are_retried_only_when_they_cannot_have_been_processed(learnupon_sandbox):
    client = lu_client(learnupon_sandbox)
    learnupon_sandbox.fail(status=503, path_contains="courses", method="POST")
    assert client.create_course({"name": "x", "owner_id": 1})  # 503: retried
    learnupon_sandbox.fail(status=500, path_contains="courses", method="POST")
    with pytest.raises(PlatformUnavailable):
        client.create_course({"name": "y", "owner_id": 1})  # 500: maybe processed, not resent
    assert len(learnupon_sandbox.data.courses) == 1


def test_reads_are_retried_on_5xx(learnupon_sandbox):
    sleeps = Sleeps()
    learnupon_sandbox.fail(status=502, path_contains="groups", times=2)
    assert next(lu_client(learnupon_sandbox, sleep=sleeps).iter_group_pages())
    assert len(sleeps) == 2


def test_an_html_page_is_a_bad_response(learnupon_sandbox):
    learnupon_sandbox.fail(status=200, body="html", path_contains="groups", times=20)
    with pytest.raises(PlatformBadResponse) as caught:
        list(lu_client(learnupon_sandbox).iter_group_pages())
    assert "not JSON (text/html)" in caught.value.message


def test_a_refusal_carries_learnupons_message(learnupon_sandbox):
    with pytest.raises(PlatformRejected) as caught:
        lu_client(learnupon_sandbox).create_course({"name": "x", "owner_id": 10001})
    assert "owner_id must be a portal administrator or instructor" in caught.value.message
    with pytest.raises(PlatformNotFound):
        lu_client(learnupon_sandbox).publish_course("123")


def test_an_echoed_password_is_scrubbed(learnupon_sandbox):
    sandbox = learnupon_sandbox
    sandbox.fail(status=400, path_contains="groups", payload={"message": f"bad {LU_SECRET}"})
    with pytest.raises(PlatformRejected) as caught:
        list(lu_client(sandbox).iter_group_pages())
    assert LU_SECRET not in caught.value.message + caught.value.excerpt + repr(caught.value)
    assert "***" in caught.value.message
    assert LU_SECRET not in repr(sandbox.credentials())


def test_check_connection_verdicts(learnupon_sandbox):
    ok = lu_client(learnupon_sandbox).check_connection(owner_id="1", group_id="5001")
    assert ok.ok and "4 group(s)" in ok.message and "admin" in ok.message
    owner = lu_client(learnupon_sandbox).check_connection(owner_id="424242")
    assert (owner.ok, owner.verdict) == (False, "not_found") and "course owner" in owner.message
    group = lu_client(learnupon_sandbox).check_connection(group_id="999")
    assert (group.ok, group.verdict) == (False, "not_found") and "target group" in group.message
    bad = LearnUponClient(learnupon_sandbox.credentials(password="x")).check_connection()
    assert (bad.ok, bad.verdict) == (False, "bad_credentials")


@pytest.mark.parametrize(
    ("portal", "base_url", "message"),
    [
        ("acme.evil.com", "", "is not valid"),
        ("acme", "https://evil.example.com/api/v1/", "not allowed"),
        ("acme", "http://acme.learnupon.com/api/v1/", "Plain http"),
        ("acme", "https://user@acme.learnupon.com/api/v1/", "user info"),
    ],
)
def test_learnupon_hosts_are_allow_listed(portal, base_url, message):
    with pytest.raises(PlatformConfigError) as caught:
        LearnUponClient(LearnUponCredentials(portal, "u", "p", base_url))
    assert message in caught.value.message


def test_learnupon_base_url_is_derived_from_the_portal():
    client = LearnUponClient(LearnUponCredentials("Acme", "u", "p"))
    assert client.base_url == "https://acme.learnupon.com/api/v1/"


def test_loopback_is_refused_in_production(settings, learnupon_sandbox):
    settings.PRODUCTION = True
    with pytest.raises(PlatformConfigError):
        lu_client(learnupon_sandbox)


# --------------------------------------------------------------------------- Coursebase


def cb_client(sandbox, **kwargs) -> CoursebaseClient:
    kwargs.setdefault("sleep", Sleeps())
    return CoursebaseClient(sandbox.credentials(), **kwargs)


def test_coursebase_cursor_paging(make_coursebase_sandbox):
    sandbox = make_coursebase_sandbox(users=250)
    pages = list(cb_client(sandbox).iter_user_pages())
    assert [len(p) for p in pages] == [100, 100, 50]
    bodies = [e["body"] for e in sandbox.request_log]
    assert bodies[0] == {} and set(bodies[1]) == {"next"} and bodies[2]["next"] != bodies[1]["next"]
    headers_ok = all(e["method"] == "POST" for e in sandbox.request_log)
    assert headers_ok


@pytest.mark.parametrize("error_status", [200, 400])
def test_coursebase_error_codes_become_clear_messages(make_coursebase_sandbox, error_status):
    sandbox = make_coursebase_sandbox(error_status=error_status)
    with pytest.raises(PlatformNotFound) as caught:
        list(cb_client(sandbox).iter_group_member_pages("nope"))
    assert caught.value.message == "Coursebase could not find the group (group_not_found)."
    sandbox.fail(status=error_status, error_code="feature_not_enabled")
    with pytest.raises(Exception) as caught:
        cb_client(sandbox).list_groups()
    assert "not enabled for the Coursebase org" in caught.value.message


def test_coursebase_bearer_token_is_checked(coursebase_sandbox):
    client = CoursebaseClient(coursebase_sandbox.credentials(token="wrong-token"))
    with pytest.raises(PlatformAuthError) as caught:
        client.list_groups()
    assert "rejected" in caught.value.message
    verdict = client.check_connection()
    assert (verdict.ok, verdict.verdict) == (False, "bad_credentials")
    assert cb_client(coursebase_sandbox).check_connection().message.endswith("10 group(s).")


def test_coursebase_429_is_retried(coursebase_sandbox):
    sleeps = Sleeps()
    coursebase_sandbox.fail(status=429, retry_after=1, times=2)
    assert len(cb_client(coursebase_sandbox, sleep=sleeps).list_groups()) == 10
    assert sleeps == [1.0, 1.0]


def test_coursebase_not_an_envelope_is_a_bad_response(coursebase_sandbox):
    coursebase_sandbox.fail(status=200, body="truncated", times=20)
    with pytest.raises(PlatformBadResponse):
        cb_client(coursebase_sandbox).list_groups()


def test_coursebase_domains_must_be_allowed_explicitly(settings):
    with pytest.raises(PlatformConfigError) as caught:
        CoursebaseClient(CoursebaseCredentials("learn.acme.com", "t"))
    assert "PLATFORM_ALLOWED_HOSTS" in caught.value.message
    settings.PLATFORM_ALLOWED_HOSTS = ["learn.acme.com"]
    assert CoursebaseClient(CoursebaseCredentials("learn.acme.com", "t")).base_url == (
        "https://learn.acme.com/api/"
    )


def test_coursebase_token_never_in_repr_or_messages(coursebase_sandbox):
    client = cb_client(coursebase_sandbox)
    assert CB_SECRET not in repr(client) + repr(coursebase_sandbox.credentials())
