"""Fixtures of the operations tests: an integration wired to a sandbox, a run of it on a real
worker, and a scrape of /metrics parsed into samples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from integrations.models import Integration, SyncRun
from integrations.tasks import run_sync
from tests.celery_worker import celery_process, wait_for, worker_args
from tests.factories import GroupFactory, IntegrationFactory

# A secret with characters that change when JSON-escaped or URL-quoted.
SANDBOX_SECRET = "Ops-s3cret/with+odd chars"
METRICS_TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture
def sandbox(make_udemy_sandbox):
    return make_udemy_sandbox(client_id="ops-client", client_secret=SANDBOX_SECRET)


@pytest.fixture
def integration(sandbox) -> Integration:
    return IntegrationFactory(
        group=GroupFactory(name="Operations", slug="operations"),
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        organization_name=sandbox.organization_name,
        organization_id=sandbox.organization_id,
        api_base_url=sandbox.api_base_url,
        status=Integration.Status.ACTIVE,
    )


@pytest.fixture
def run_on_worker(tmp_path: Path, worker_queue: str) -> Callable[..., SyncRun]:
    """Run a content sync of `integration` on a real worker subprocess started with `env`;
    return the finished run (the worker's log is at `tmp_path / "worker.log"`)."""

    def run(integration: Integration, *worker_extra: str, **env: str) -> SyncRun:
        sync = SyncRun.objects.create(
            integration=integration, kind=SyncRun.Kind.CONTENT, trigger=SyncRun.Trigger.MANUAL
        )
        log = tmp_path / "worker.log"
        # What the worker queues itself (alerts, a push) stays on this test's queue.
        with celery_process(
            *worker_args(worker_queue, *worker_extra),
            log=log,
            CELERY_TASK_DEFAULT_QUEUE=worker_queue,
            **env,
        ):
            wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
            run_sync.apply_async(args=[sync.pk], queue=worker_queue)

            def finished() -> bool:
                sync.refresh_from_db()
                return sync.status in SyncRun.FINISHED

            wait_for(finished, timeout=120, interval=0.5, message="the run to finish")
        return sync

    return run


@pytest.fixture(autouse=True)
def _metrics_token(settings) -> None:
    """/metrics wants a token outside development (see `scrape`)."""
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.METRICS_ALLOWED_IPS = []


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """GET /metrics with the token (200 expected): {(sample name, frozenset(labels)): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def matching(samples: dict, name: str, **labels: str) -> dict[frozenset, float]:
    """The samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return {key: v for (n, key), v in samples.items() if n == name and wanted <= key}
