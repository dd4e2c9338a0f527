"""Prometheus metrics at /metrics: what a worker counts reaches the scrape (multiprocess mode),
the per-integration gauges come from the database, labels stay bounded, and the endpoint
answers only a bearer token, an allow-listed address or loopback."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from integrations.services.sync import sync_execute
from tests.factories import IntegrationFactory

from .conftest import METRICS_TOKEN, matching, scrape, value

AUTH = {"HTTP_AUTHORIZATION": f"Bearer {METRICS_TOKEN}"}
RUN = {"provider": "udemy", "kind": "content", "trigger": "manual"}


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_sync_on_a_real_worker_is_counted_with_its_status_and_duration(
    sandbox, integration, run_on_worker, client, settings, tmp_path: Path
):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    sandbox.fail(path_contains="courses", status=429, retry_after=1, times=1)

    run = run_on_worker(integration, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert list(metrics_dir.glob("*.db")), "the worker wrote no metrics file"
    settings.PROMETHEUS_MULTIPROC_DIR = str(metrics_dir)
    samples = scrape(client)

    assert value(samples, "lmsbridge_runs_started_total", **RUN) == 1
    assert value(samples, "lmsbridge_runs_finished_total", **RUN, status="succeeded") == 1
    assert not matching(samples, "lmsbridge_runs_finished_total", status="failed")
    timing = {"provider": "udemy", "kind": "content", "status": "succeeded"}
    assert value(samples, "lmsbridge_run_duration_seconds_count", **timing) == 1
    seconds = run.duration.total_seconds()
    assert value(samples, "lmsbridge_run_duration_seconds_sum", **timing) == pytest.approx(
        seconds, abs=0.01
    )
    assert seconds >= 1  # the 429's Retry-After was waited out
    buckets = matching(samples, "lmsbridge_run_duration_seconds_bucket", **timing)
    assert {dict(k)["le"]: v for k, v in buckets.items()}["+Inf"] == 1
    assert all(v == (float(dict(k)["le"]) >= seconds) for k, v in buckets.items())

    items = {"provider": "udemy", "kind": "content"}
    assert run.created > 0
    assert value(samples, "lmsbridge_run_items_total", **items, outcome="fetched") == run.fetched
    assert value(samples, "lmsbridge_run_items_total", **items, outcome="created") == run.created

    # Every request the sandbox answered, counted by the worker's HTTP client.
    answered = len(sandbox.request_log)
    requests = matching(samples, "lmsbridge_upstream_requests_total", vendor="udemy")
    assert sum(requests.values()) == answered
    assert value(samples, "lmsbridge_upstream_requests_total", vendor="udemy", status_class="4xx")
    assert value(samples, "lmsbridge_upstream_throttled_total", vendor="udemy") == 1
    waited = value(
        samples, "lmsbridge_upstream_wait_seconds_total", vendor="udemy", reason="rate_limit"
    )
    assert waited == pytest.approx(1.0)

    # Read from the database at scrape time.
    ident = str(integration.pk)
    for status in ("active", "error", "inactive"):
        expected = 1.0 if status == "active" else 0.0
        got = value(
            samples,
            "lmsbridge_integration_status",
            integration_id=ident,
            provider="udemy",
            status=status,
        )
        assert got == expected, status
    age = value(
        samples,
        "lmsbridge_integration_last_success_age_seconds",
        integration_id=ident,
        provider="udemy",
        kind="content",
    )
    assert 0 <= age < 300
    assert value(samples, "lmsbridge_scrape_source_up", source="database") == 1
    assert value(samples, "lmsbridge_scrape_source_up", source="broker") == 1
    assert value(samples, "lmsbridge_queue_depth", queue="celery") is not None


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_in_this_process_is_counted_as_failed(sandbox, integration, client):
    """Without a multiprocess directory (the tests' default) the scrape reads this process's
    own values: a run refused by Udemy adds one failed run."""

    def failed(samples) -> float:
        return value(samples, "lmsbridge_runs_finished_total", **RUN, status="failed") or 0.0

    before = scrape(client)
    sandbox.fail(path_contains="courses", status=401, times=1)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    assert sync_execute(run_id=run.pk).status == SyncRun.Status.FAILED
    after = scrape(client)
    assert failed(after) == failed(before) + 1
    key = (
        "lmsbridge_upstream_requests_total",
        frozenset({"vendor": "udemy", "status_class": "4xx"}.items()),
    )
    assert after[key] >= before.get(key, 0) + 1


@pytest.mark.django_db
def test_staleness_and_status_come_from_the_database(client, settings):
    now = timezone.now()
    settings.SYNC_STALE_AFTER_HOURS = 36
    stale = IntegrationFactory(
        status="active",
        activated_at=now - timedelta(days=10),
        last_content_sync=now - timedelta(hours=2),
        last_stats_sync=now - timedelta(hours=40),
    )
    off = IntegrationFactory(status="inactive", last_stats_sync=now - timedelta(days=90))
    samples = scrape(client)
    labels = {"integration_id": str(stale.pk), "provider": "udemy"}
    stats_age = value(
        samples, "lmsbridge_integration_last_success_age_seconds", **labels, kind="stats"
    )
    assert stats_age == pytest.approx(40 * 3600, abs=120)
    assert value(samples, "lmsbridge_integration_stale", **labels, kind="stats") == 1
    assert value(samples, "lmsbridge_integration_stale", **labels, kind="content") == 0
    # An inactive integration is expected to be quiet: its status, but no age to alert on.
    off_labels = {"integration_id": str(off.pk), "provider": "udemy"}
    assert value(samples, "lmsbridge_integration_status", **off_labels, status="inactive") == 1
    assert not matching(samples, "lmsbridge_integration_last_success_age_seconds", **off_labels)


@pytest.mark.django_db(transaction=True)
def test_labels_stay_bounded(client, sandbox, integration):
    """Only the declared label names, and no value that looks like an e-mail, a URL or free
    text: a label set that grew with the data would swamp Prometheus."""
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    sync_execute(run_id=run.pk)
    allowed = {
        "provider",
        "kind",
        "trigger",
        "status",
        "outcome",
        "vendor",
        "status_class",
        "reason",
        "integration_id",
        "connection_id",
        "platform",
        "queue",
        "source",
        "le",
    }
    samples = scrape(client)
    ours = [labels for name, labels in samples if name.startswith("lmsbridge_")]
    assert ours
    for labels in ours:
        for name, label_value in labels:
            assert name in allowed, name
            assert re.fullmatch(r"[A-Za-z0-9_.+-]{1,40}|\+Inf", label_value), (name, label_value)


# ------------------------------------------------------------------ who may scrape


@pytest.mark.django_db
def test_a_token_is_required_when_one_is_configured(client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.METRICS_OPEN_TO_LOOPBACK = True  # a token, once set, is required from loopback too
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics")["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {METRICS_TOKEN}").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=METRICS_TOKEN).status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert ok.status_code == 200 and b"lmsbridge_" in ok.content
    far = client.get("/metrics", REMOTE_ADDR="203.0.113.7", **AUTH)
    assert far.status_code == 200  # the token is enough when no allow-list is set
    assert client.post("/metrics", **AUTH).status_code == 405


@pytest.mark.django_db
def test_without_a_token_nor_an_allow_list_the_endpoint_is_off(client, settings):
    """As in production and the tests: nobody gets an answer, loopback included (a reverse
    proxy on the same host makes every request come from loopback)."""
    settings.METRICS_TOKEN = ""
    assert settings.METRICS_OPEN_TO_LOOPBACK is False
    for address in ("127.0.0.1", "::1", "203.0.113.7", "10.1.2.3", "not-an-address"):
        response = client.get("/metrics", REMOTE_ADDR=address)
        assert response.status_code == 404, address
        assert b"lmsbridge_" not in response.content


@pytest.mark.django_db
def test_in_development_loopback_may_scrape_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_OPEN_TO_LOOPBACK = True
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200, address
    for address in ("203.0.113.7", "10.1.2.3", "::ffff:192.0.2.1", ""):
        assert client.get("/metrics", REMOTE_ADDR=address).status_code == 404, address
    # Forwarded by a proxy on this host: not a local request.
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"):
        forwarded = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: "203.0.113.7"})
        assert forwarded.status_code == 404, header


@pytest.mark.django_db
def test_an_allow_list_admits_its_addresses_only(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.10"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.10").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.11").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403  # not listed
    assert (
        client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code
        == 200
    )
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.1.2.3"
        ).status_code
        == 403
    )
    # Both set: both are checked.
    settings.METRICS_TOKEN = METRICS_TOKEN
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", **AUTH).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7", **AUTH).status_code == 403


@pytest.mark.django_db
def test_queue_depth_is_read_from_the_broker(client, worker_queue):
    """Messages nobody consumes yet: LLEN on Redis, message files on the file broker."""
    from lmsbridge.celery import app, ping

    default = app.conf.task_default_queue
    app.conf.task_default_queue = worker_queue  # the queues reported: the default one
    try:
        assert value(scrape(client), "lmsbridge_queue_depth", queue=worker_queue) == 0
        for n in range(3):
            ping.apply_async(args=[f"queued-{n}"], queue=worker_queue)
        assert value(scrape(client), "lmsbridge_queue_depth", queue=worker_queue) == 3
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(worker_queue)
        assert value(scrape(client), "lmsbridge_queue_depth", queue=worker_queue) == 0
    finally:
        app.conf.task_default_queue = default
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(worker_queue)  # nothing left behind on failure
