"""One Udemy organization, one request budget (UDEMY_ORG_MAX_IN_FLIGHT): shared by its syncs on
every worker, in Redis when Redis is configured and in a database row otherwise. Claims add up to
the limit at most, a waiting sync gets an even share at the next claim, a 429's pause reaches
every holder, a dead worker's slots are dropped, and two real workers syncing one organization
never have more requests in flight at the sandbox than the limit."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from catalog.models import Course
from integrations.core import budget as budget_module
from integrations.core.budget import BudgetShare, DatabaseBudget, RedisBudget, budget_holder
from integrations.models import SyncRun, UpstreamBudget
from integrations.providers.udemy.client import UdemyClient, UdemyRetryLater
from integrations.providers.udemy.provider import make_client
from integrations.tasks import run_sync
from tests.celery_worker import ready_workers, wait_for

LOOPBACK = ["127.0.0.1", "localhost"]
REDIS_URL = django_settings.REDIS_URL or "redis://127.0.0.1:6379/15"


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")


@pytest.fixture(params=["database", "redis"])
def make_budget(request, db):
    key = f"test:{budget_holder()}"

    def make(limit: int = 4):
        if request.param == "redis":
            _redis_or_skip()
            return RedisBudget(REDIS_URL, key, limit)
        return DatabaseBudget(UpstreamBudget, key, limit)

    return make


def test_claims_add_up_to_the_limit_and_a_waiting_holder_gets_an_even_share(make_budget):
    budget = make_budget(limit=4)
    assert budget.claim("a", 4, 0.0).slots == 4
    assert budget.claim("b", 4, 0.0).slots == 0  # all taken: b waits (listed with 0)
    assert budget.claim("a", 4, 0.0).slots == 2  # someone waits: a keeps an even share
    assert budget.claim("b", 4, 0.0).slots == 2
    assert budget.claim("a", 4, 0.0).slots == 2  # nobody waits, nothing free: a keeps its 2
    budget.release("a", 0.0)
    assert budget.claim("b", 4, 0.0).slots == 4  # a is gone: b may take everything


def test_a_holder_cut_below_what_it_has_on_the_wire_keeps_those_listed(make_budget):
    """Cut to 2 while 4 requests are still on the wire, `a` stays listed with 4 until its next
    claim: a waiting `b` does not start beside them (the sandbox would see 5 at once)."""
    budget = make_budget(limit=4)
    assert budget.claim("a", 4, 0.0).slots == 4
    assert budget.claim("b", 4, 0.0).slots == 0
    assert budget.claim("a", 4, 0.0, held=4).slots == 2  # told 2, still 4 on the wire
    assert budget.claim("b", 4, 0.0).slots == 0  # nothing free until they end
    assert budget.claim("a", 4, 0.0, held=2).slots == 2  # drained to its share
    assert budget.claim("b", 4, 0.0).slots == 2


def test_expired_claims_lapse(make_budget, monkeypatch):
    budget = make_budget(limit=4)
    assert budget.claim("dead-worker", 4, 0.0).slots == 4
    later = time.time() + budget_module.SLOT_TTL + 1
    monkeypatch.setattr(budget_module.time, "time", lambda: later)
    assert budget.claim("b", 4, 0.0).slots == 4


def test_a_pause_met_by_one_holder_reaches_the_others(make_budget):
    budget = make_budget(limit=4)
    until = time.time() + 30
    budget.claim("a", 2, until)
    grant = budget.claim("b", 2, 0.0)
    assert grant.pause_until == pytest.approx(until, abs=0.01)
    budget.release("a", until + 10)  # a release publishes too
    assert budget.claim("b", 2, 0.0).pause_until == pytest.approx(until + 10, abs=0.01)


def test_a_redis_pause_outlives_the_claims():
    _redis_or_skip()
    budget = RedisBudget(REDIS_URL, f"test:{budget_holder()}", 4)
    budget.claim("a", 1, time.time() + 2 * budget_module.SLOT_TTL)
    assert budget._redis.ttl(budget._name) > budget_module.SLOT_TTL + 100


def _client(sandbox, **kwargs) -> UdemyClient:
    return UdemyClient(sandbox.credentials(), allowed_hosts=LOOPBACK, **kwargs)


def _dead_holder() -> str:
    """A holder named like one of this host whose process has exited."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    prefix, kind, host, _, nonce = budget_holder().split(":")
    return f"{prefix}:{kind}:{host}:{proc.stdout.strip()}:{nonce}"


def test_a_scan_takes_over_the_slots_of_a_dead_worker_at_once(make_budget, udemy_sandbox):
    budget = make_budget(limit=4)
    budget.claim(_dead_holder(), 4, 0.0)
    slept = []
    client = _client(udemy_sandbox, sleep=slept.append)
    client.retry_after_cap = 2.0
    client.page_concurrency = 4  # what the scan wants
    share = BudgetShare(budget, client)
    with share:
        assert client.throttle.ceiling == 4
    assert slept == []  # no waiting: the dead holder was dropped


def test_a_scan_that_gets_no_slot_in_time_is_rescheduled(make_budget, udemy_sandbox):
    budget = make_budget(limit=2)
    holder = budget_holder()
    budget.claim(holder, 2, 0.0)  # a live holder (this process) keeps both
    client = _client(udemy_sandbox, sleep=lambda s: time.sleep(0.3))
    client.retry_after_cap = 3.0
    client.page_concurrency = 4  # what the scan wants
    share = BudgetShare(budget, client)
    with pytest.raises(UdemyRetryLater, match="shared limit"):
        share.start()
    assert share.waited >= 1 and client.waits and set(client.waits) == {1.0}  # recorded waits
    assert budget.claim(holder, 2, 0.0).slots == 2  # no waiter left to share with


def test_a_pause_shared_above_the_cap_reschedules_the_other_holders(udemy_sandbox):
    client = _client(udemy_sandbox)
    client.throttle.hold_pause(True)
    client.throttle.pause_until_epoch(time.time() + client.retry_after_cap + 60)
    with pytest.raises(UdemyRetryLater):
        client.request("GET", client.url_for("courses/list/", {"page_size": 1}))
    assert client.request_count == 0  # nothing was sent


@pytest.mark.django_db
def test_the_backend_follows_the_configuration(make_integration, udemy_sandbox, settings):
    settings.UDEMY_ORG_MAX_IN_FLIGHT = 6
    settings.REDIS_URL = ""
    client = make_client(make_integration(udemy_sandbox))
    assert isinstance(client.budget, DatabaseBudget) and client.budget.limit == 6
    assert client.budget.key.endswith(f":{udemy_sandbox.organization_id}")
    settings.REDIS_URL = REDIS_URL
    assert isinstance(make_client(make_integration(udemy_sandbox)).budget, RedisBudget)
    settings.UDEMY_ORG_MAX_IN_FLIGHT = 0
    assert make_client(make_integration(udemy_sandbox)).budget is None


@pytest.mark.django_db
def test_an_in_process_sync_releases_its_claim(make_udemy_sandbox, make_integration, run_sync,
                                               settings):  # fmt: skip
    settings.REDIS_URL = ""
    sandbox = make_udemy_sandbox(courses=300, paths=0, learners=1, latency=0.02)
    integration = make_integration(sandbox)
    run = run_sync(integration)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    row = UpstreamBudget.objects.get(key=make_client(integration).budget.key)
    assert row.slots == {}  # claimed during the scan, released at its end


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_syncing_one_organization_share_its_limit(
    make_udemy_sandbox, make_integration, tmp_path, worker_queue
):
    """Two worker processes, one sync each, same organization, 4 pages at once each: the
    sandbox never sees more than UDEMY_ORG_MAX_IN_FLIGHT=4 requests at once, and both runs
    overlap and succeed (Redis holds the budget when configured, else the database)."""
    sandbox = make_udemy_sandbox(courses=3000, paths=0, learners=1, latency=0.25)
    first, second = make_integration(sandbox), make_integration(sandbox)
    runs = [
        SyncRun.objects.create(integration=i, kind="content", trigger="manual")
        for i in (first, second)
    ]
    env = {"UDEMY_ORG_MAX_IN_FLIGHT": "4", "UDEMY_PAGE_CONCURRENCY": "4"}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with ready_workers(worker_queue, logs, **env):
        for run in runs:
            run_sync.apply_async(args=[run.pk], queue=worker_queue)

        def finished() -> bool:
            return all(SyncRun.objects.get(pk=r.pk).status in SyncRun.FINISHED for r in runs)

        wait_for(finished, timeout=180, message="both runs to finish")
    for run in runs:
        run.refresh_from_db()
        assert run.status == SyncRun.Status.SUCCEEDED, (run.error_summary, logs)
        assert Course.objects.filter(integration=run.integration).count() == 3000
    a, b = runs
    assert a.started_at < b.finished_at and b.started_at < a.finished_at  # they overlapped
    assert 2 <= sandbox.max_in_flight <= 4
