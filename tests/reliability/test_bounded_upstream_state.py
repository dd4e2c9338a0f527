"""Promise: nothing an upstream sends stays forever or grows without bound.

- A `Retry-After` far in the future ends the run that met it with a readable message, but the
  pause it publishes to the organization's shared budget (a database row or a Redis hash)
  never lasts longer than `UPSTREAM_MAX_SHARED_PAUSE` (and `RUN_MAX_WAIT`): it expires by
  itself, and one stored before this bound existed is read as clamped.
- A list that never ends (empty pages whose `next` points on, pages beyond the announced
  count, no count at all) ends the scan as a bad response after a bounded number of requests.
- A page holding more items than the page size asked for, or a body heavier than a list page
  may weigh, is refused before it is mapped or stored.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings

from integrations.core.budget import REDIS_PREFIX, DatabaseBudget, RedisBudget, budget_holder
from integrations.core.execute import Reschedule
from integrations.core.netutil import human_wait, shared_pause_cap
from integrations.models import SyncRun, UpstreamBudget
from integrations.providers.udemy.client import UdemyClient, UdemyRetryLater
from integrations.providers.udemy.provider import budget_key

REDIS_URL = django_settings.REDIS_URL or "redis://127.0.0.1:6379/3"
FAR = 999_999_999  # seconds: the Retry-After that paused an organization for 31 years


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")


@pytest.fixture(params=["database", "redis"])
def backend(request, db, settings):
    """The name of the shared budget's backend; REDIS_URL set to match."""
    if request.param == "redis":
        _redis_or_skip()
        settings.REDIS_URL = REDIS_URL
    else:
        settings.REDIS_URL = ""
    return request.param


def _budget(backend: str, key: str, limit: int = 4):
    if backend == "redis":
        return RedisBudget(REDIS_URL, key, limit)
    return DatabaseBudget(UpstreamBudget, key, limit)


def _forget(backend: str, key: str) -> None:
    if backend == "redis":
        import redis

        redis.Redis.from_url(REDIS_URL).delete(REDIS_PREFIX + key)


# --------------------------------------------------------------------------- 1. the shared pause


def test_the_shared_pause_cap_is_the_smaller_of_its_setting_and_the_run_s_longest_wait(settings):
    settings.UPSTREAM_MAX_SHARED_PAUSE = 3600
    settings.RUN_MAX_WAIT = 6 * 3600
    assert shared_pause_cap() == 3600
    settings.RUN_MAX_WAIT = 600
    assert shared_pause_cap() == 600


def test_a_pause_published_far_ahead_is_clamped_where_it_is_shared(backend, settings):
    """Claim and release both publish: neither stores more than the cap, and Redis keeps the
    hash no longer than the cap (the pause expires by itself)."""
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    key = f"test:{budget_holder()}"
    budget = _budget(backend, key)
    try:
        now = time.time()
        assert budget.claim("a", 2, now + FAR).pause_until <= now + 121
        budget.release("a", now + FAR)
        assert budget.claim("b", 2, 0.0).pause_until <= time.time() + 121
        if backend == "redis":
            assert 0 < budget._redis.ttl(budget._name) <= 300  # SLOT_TTL, not 31 years
        else:
            assert UpstreamBudget.objects.get(key=key).pause_until <= time.time() + 121
    finally:
        _forget(backend, key)


def test_a_pause_stored_too_far_ahead_is_read_as_clamped(backend, settings):
    """A row or hash written before the bound existed (pause = now + 1e9) is read, and
    rewritten, as at most the cap."""
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    key = f"test:{budget_holder()}"
    budget = _budget(backend, key)
    try:
        far = time.time() + FAR
        if backend == "redis":
            budget._redis.hset(budget._name, "_pause", repr(far))
            budget._redis.expire(budget._name, FAR)
        else:
            UpstreamBudget.objects.create(key=key, pause_until=far)
        grant = budget.claim("a", 2, 0.0)
        assert grant.slots == 2
        assert grant.pause_until <= time.time() + 121
        if backend == "redis":
            assert float(budget._redis.hget(budget._name, "_pause")) <= time.time() + 121
            assert 0 < budget._redis.ttl(budget._name) <= 300
        else:
            assert UpstreamBudget.objects.get(key=key).pause_until <= time.time() + 121
    finally:
        _forget(backend, key)


def test_the_client_honours_and_shares_no_pause_longer_than_the_cap(udemy_sandbox, settings):
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    client = UdemyClient(udemy_sandbox.credentials(), allowed_hosts=["127.0.0.1"])
    client.pause_until_epoch(time.time() + FAR)  # read from a budget stored long ago
    assert client.pause_epoch() <= time.time() + 121
    other = UdemyClient(udemy_sandbox.credentials(), allowed_hosts=["127.0.0.1"], max_retries=0)
    udemy_sandbox.fail(path_contains="courses/list", status=429, retry_after=FAR)
    with pytest.raises(UdemyRetryLater, match="more than 6 hours") as excinfo:
        next(iter(other.iter_course_pages()))
    assert "e+09" not in excinfo.value.message
    assert other.pause_epoch() <= time.time() + 121  # what its release would publish


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30 s"), (90, "90 s"), (150, "3 min"), (3600, "60 min"), (7200, "2 hours"),
     (6 * 3600, "6 hours"), (6 * 3600 + 1, "more than 6 hours"), (FAR, "more than 6 hours")],
)  # fmt: skip
def test_long_waits_read_in_human_units(seconds, text):
    assert human_wait(seconds, beyond=6 * 3600) == text


def test_a_wait_of_days_reads_in_days():
    assert human_wait(3 * 86400) == "3 days"


def test_one_far_retry_after_no_longer_bricks_the_organization(
    backend, make_udemy_sandbox, make_integration, run_sync, settings
):
    """The run that meets `Retry-After: 999999999` stops at once with a readable reason; the
    pause it shares lapses after the cap, and the next run of the organization, for another
    group, goes through instead of failing without a request for 31 years."""
    settings.UPSTREAM_MAX_SHARED_PAUSE = 2
    sandbox = make_udemy_sandbox(courses=30, paths=0, learners=1)
    first, second = make_integration(sandbox), make_integration(sandbox)
    key = budget_key(sandbox.api_base_url, sandbox.organization_id)
    try:
        sandbox.fail(path_contains="courses/list", status=429, retry_after=FAR)
        with pytest.raises(Reschedule) as excinfo:
            run_sync(first)
        assert "more than 6 hours" in excinfo.value.reason, excinfo.value.reason
        time.sleep(2.5)
        run = run_sync(second)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    finally:
        _forget(backend, key)
