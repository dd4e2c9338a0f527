"""Promise (Syncs): "two triggers never run the same integration's sync at once (a lease that
works on SQLite and PostgreSQL)" — and Known trap: "with acks_late, a task running longer than
the Redis visibility_timeout is redelivered and runs twice at once".

Two real `celery worker` processes consume the SAME queue on Redis, with a 2-second visibility
timeout. They get two runs of one integration, the same run twice, and a run that Redis hands
to the second worker while the first still syncs it. Upstream is the sandbox: its request log
tells whether a page was fetched twice, i.e. whether one sync ran twice at once.

Orderings are events, not sleeps: a delivery is over when a worker's log says how it ended
(succeeded, retried or raised), and the visibility timeout is passed by moving the sweep's
clock (time-machine), not by waiting for it.

Isolation: the broker is a Redis database of its own (REDIS_URL's server, database 14) so the
short visibility timeout never redelivers another suite's tasks; results stay where they are.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from kombu import Connection

from integrations.models import SyncPage, SyncRun
from integrations.tasks import run_sync
from tests.celery_worker import celery_process, wait_for

VISIBILITY_TIMEOUT = 2
BROKER_DB = 14

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("redis://"),
        reason="needs Redis (set REDIS_URL): the visibility timeout is a Redis transport feature",
    ),
]


def isolated_broker_url() -> str:
    parts = urlsplit(settings.CELERY_BROKER_URL)
    return parts._replace(path=f"/{BROKER_DB}").geturl()


@pytest.fixture
def broker() -> Iterator[Connection]:
    with Connection(
        isolated_broker_url(), transport_options={"visibility_timeout": VISIBILITY_TIMEOUT}
    ) as connection:
        yield connection


@pytest.fixture
def two_workers(tmp_path: Path, broker: Connection) -> Iterator[tuple[str, list[Path]]]:
    """Two worker processes on one fresh queue, broker visibility timeout 2 s."""
    queue = f"twins-{uuid.uuid4().hex[:8]}"
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    env = {
        "CELERY_BROKER_URL": isolated_broker_url(),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    with ExitStack() as stack:
        for n, log in enumerate(logs, 1):
            args = ("worker", "-Q", queue, "-c", "1", "-l", "info", "-n", f"{queue}-{n}@%h")
            stack.enter_context(
                celery_process(*args, "--without-mingle", "--without-gossip", log=log, **env)
            )
        for log in logs:
            wait_for(lambda log=log: "ready" in log.read_text(), timeout=60, message="ready")
        yield queue, logs
        broker.default_channel.queue_purge(queue)


def enqueue(broker: Connection, queue: str, run: SyncRun, task_id: str | None = None) -> str:
    """Send `run` to `queue`; returns the message's task id."""
    result = run_sync.apply_async(args=[run.pk], queue=queue, connection=broker, task_id=task_id)
    return result.id


def deliveries_ended(logs: list[Path], task_id: str) -> int:
    """How many deliveries of `task_id` the workers have ended (succeeded, retried or raised),
    from their logs: Celery writes that line once an execution is over."""
    ended = re.compile(
        rf"{re.escape(run_sync.name)}\[{re.escape(task_id)}\] (succeeded|retry|raised)"
    )
    return sum(len(ended.findall(log.read_text())) for log in logs)


def wait_deliveries_ended(logs: list[Path], counts: Counter) -> None:
    """Wait until each task id has had at least its count of deliveries ended: whatever a
    duplicate delivery would have fetched upstream has been fetched by then."""
    for task_id, count in counts.items():
        wait_for(
            lambda task_id=task_id, count=count: deliveries_ended(logs, task_id) >= count,
            timeout=120,
            message=f"{count} deliveries of {task_id} ended",
        )


def fetches_per_page(sandbox) -> Counter:
    pages = Counter()
    for entry in sandbox.request_log:
        if entry["path"].endswith("courses/list/"):
            pages[parse_qs(entry["query"]).get("page", ["1"])[0]] += 1
    return pages


def wait_finished(runs: list[SyncRun], timeout: float = 120) -> int:
    """Wait until every run is finished; returns the most runs seen RUNNING at one moment."""
    deadline, most = time.monotonic() + timeout, 0
    ids = [run.pk for run in runs]
    while time.monotonic() < deadline:
        statuses = list(SyncRun.objects.filter(pk__in=ids).values_list("status", flat=True))
        most = max(most, statuses.count(SyncRun.Status.RUNNING))
        if all(status in SyncRun.FINISHED for status in statuses):
            return most
        time.sleep(0.05)
    raise AssertionError(f"runs {ids} did not finish in {timeout}s: {statuses}")


def assert_synced_once(run: SyncRun, sandbox, courses: int) -> None:
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    pages = fetches_per_page(sandbox)
    assert pages and max(pages.values()) == 1, f"a page was fetched twice: {dict(pages)}"
    assert run.fetched == courses, f"{run.fetched} items counted for {courses} courses"
    numbers = list(SyncPage.objects.filter(run=run).values_list("stream", "number"))
    assert len(numbers) == len(set(numbers)) == -(-courses // 100)


def test_two_runs_of_one_integration_never_overlap(
    two_workers, broker, make_udemy_sandbox, make_integration
):
    """Both workers get a run of the same integration at once: one syncs, the other skips."""
    queue, _ = two_workers
    sandbox = make_udemy_sandbox(courses=400, paths=0, learners=1, latency=0.3)
    integration = make_integration(sandbox)
    runs = [SyncRun.objects.create(integration=integration, kind="content", trigger="manual")]
    runs.append(SyncRun.objects.create(integration=integration, kind="content", trigger="api"))
    for run in runs:
        enqueue(broker, queue, run)
    assert wait_finished(runs) <= 1
    statuses = sorted(
        SyncRun.objects.filter(integration=integration).values_list("status", flat=True)
    )
    assert statuses == [SyncRun.Status.SKIPPED, SyncRun.Status.SUCCEEDED]
    done = SyncRun.objects.get(integration=integration, status=SyncRun.Status.SUCCEEDED)
    assert_synced_once(done, sandbox, 400)


def test_the_same_run_delivered_twice_syncs_once(
    two_workers, broker, make_udemy_sandbox, make_integration
):
    """The same run enqueued twice (a double click racing, a replayed message)."""
    queue, logs = two_workers
    sandbox = make_udemy_sandbox(courses=400, paths=0, learners=1, latency=0.3)
    run = SyncRun.objects.create(
        integration=make_integration(sandbox), kind="content", trigger="api"
    )
    sent = Counter([enqueue(broker, queue, run), enqueue(broker, queue, run)])
    assert len(sent) == 2  # two messages, as a double click sends
    wait_finished([run])
    wait_deliveries_ended(logs, sent)  # the second one too: it skipped, retried or fetched
    assert_synced_once(run, sandbox, 400)


def test_a_redelivery_past_the_visibility_timeout_does_not_run_the_sync_twice(
    two_workers, broker, make_udemy_sandbox, make_integration
):
    """Redis hands the unacknowledged task to the second worker while the first still syncs."""
    queue, logs = two_workers
    sandbox = make_udemy_sandbox(courses=800, paths=0, learners=1, latency=1.0)
    run = SyncRun.objects.create(
        integration=make_integration(sandbox), kind="content", trigger="api"
    )
    task_id = enqueue(broker, queue, run)
    wait_for(lambda: SyncPage.objects.filter(run=run).exists(), timeout=60, message="page 1")
    # Redis itself redelivers nothing: a consumer's sweep does, every ~100 s with kombu's
    # defaults (unacked_restore_interval x unacked_restore_throttle), restoring the messages
    # unacknowledged for longer than the visibility timeout by its own clock. Run that sweep
    # now, its clock past the timeout, while the first worker still syncs (page 1 of 8).
    with time_machine.travel(time.time() + VISIBILITY_TIMEOUT + 1, tick=False):
        broker.default_channel.qos.restore_visible(num=100, interval=1)
    wait_finished([run])
    wait_deliveries_ended(logs, Counter({task_id: 2}))  # the first one and the redelivered one
    assert_synced_once(run, sandbox, 800)
