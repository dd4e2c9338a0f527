"""The sync's pipeline (`services/pipeline.py`) run sequentially (`SYNC_PIPELINE_SEQUENTIAL`) or
with its threads: the same stored result for a content sync and a statistics sync; sequential,
everything runs on the task's thread; threaded, the per-page hooks (lease, time slice,
progress, planner statistics, budget) still run on the task's thread, after their page's
commit and in page order."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from catalog.models import Attempt, Course
from integrations.connectors.providers import provider_for
from integrations.models import SyncPage, SyncRun
from integrations.providers.udemy import pages as udemy_pages
from integrations.services import content_sync, paging, stats_sync
from integrations.services.pipeline import PageCommits
from tests.integrations.services.audience import register

COURSE_FIELDS = ("kind", "external_id", "title", "status", "fingerprint", "raw_fingerprint")
ATTEMPT_FIELDS = (
    "learner__email", "course__external_id", "number", "source", "first_activity",
    "last_activity", "completed_at", "progress", "time_spent_ms", "is_open", "fingerprint",
)  # fmt: skip
RUN_FIELDS = ("status", "fetched", "created", "updated", "unchanged", "checkpoint")


def _threads_of(monkeypatch) -> list[str]:
    """The threads that fetched a page, wrote a content page or applied a statistics page."""
    names: list[str] = []

    def recording(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            names.append(threading.current_thread().name)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    recording(content_sync, "courses_upsert_page")
    recording(stats_sync, "attempts_apply")
    recording(udemy_pages.PagedLists, "_get_page")
    return names


def _synced(sandbox, make_integration, run_sync) -> dict:
    integration = make_integration(sandbox)
    content = run_sync(integration)
    register(sandbox.data.learner_emails, integration.group)
    stats = run_sync(integration, "stats")
    runs = [SyncRun.objects.filter(pk=r.pk).values(*RUN_FIELDS).get() for r in (content, stats)]
    return {
        "runs": runs,
        "courses": sorted(
            Course.objects.filter(integration=integration).values_list(*COURSE_FIELDS)
        ),
        "attempts": sorted(
            Attempt.objects.filter(course__integration=integration).values_list(*ATTEMPT_FIELDS)
        ),
        "ledger": sorted(
            SyncPage.objects.filter(run__integration=integration).values_list(
                "run__kind", "stream", "number", "external_ids"
            )
        ),
    }


@pytest.mark.django_db(transaction=True)
def test_sequential_and_threaded_store_the_same(
    make_udemy_sandbox, make_integration, run_sync, settings, monkeypatch
) -> None:
    sandbox = make_udemy_sandbox(courses=450, paths=0, learners=60)
    settings.UDEMY_PAGE_CONCURRENCY = 4
    names = _threads_of(monkeypatch)
    settings.SYNC_PIPELINE_SEQUENTIAL = True
    sequential = _synced(sandbox, make_integration, run_sync)
    assert names and set(names) == {threading.current_thread().name}, "no thread of its own"
    names.clear()
    settings.SYNC_PIPELINE_SEQUENTIAL = False
    threaded = _synced(sandbox, make_integration, run_sync)
    assert any(n.startswith("udemy-pages") for n in names), "the fetch pool ran"
    assert sequential["runs"][0]["status"] == SyncRun.Status.SUCCEEDED
    assert sequential["runs"][1]["status"] == SyncRun.Status.SUCCEEDED
    assert len(sequential["courses"]) == 450 and sequential["attempts"]
    assert sequential == threaded


@pytest.mark.django_db(transaction=True)
def test_the_hooks_run_on_the_task_thread_after_their_page(
    make_udemy_sandbox, make_integration, monkeypatch
) -> None:
    """Each page's hook runs on the calling thread, in page order, once that page's checkpoint
    is committed (whichever thread committed it)."""
    integration = make_integration(make_udemy_sandbox(courses=500, paths=0, learners=1))
    run = SyncRun.objects.create(integration=integration, kind="content")
    provider = provider_for(integration.provider)
    seen: list[tuple[str, int]] = []

    def on_page() -> None:
        committed = SyncRun.objects.get(pk=run.pk).checkpoint.get("courses", 0)
        seen.append((threading.current_thread().name, committed))

    with provider.make_client(integration) as client:
        streams = provider.content_streams(integration, client)
        paging.run_stream(run=run, stream=streams[0], writer=lambda records: {}, on_page=on_page)
    assert [name for name, _ in seen] == [threading.current_thread().name] * 5
    assert [committed >= n for n, (_, committed) in enumerate(seen, 1)] == [True] * 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the writer thread is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_hook_that_raises_stops_the_stream_and_no_later_hook_runs() -> None:
    """A page's hook (a used time slice) raises on this thread: the error is the stream's,
    the hooks of the pages behind it are not run, and the writer starts no later page."""
    hooks: list[tuple[str, int]] = []

    def hook(number: int):
        def run() -> None:
            hooks.append((threading.current_thread().name, number))
            if number == 1:
                raise RuntimeError("time slice used")

        return run

    commits = PageCommits()
    with pytest.raises(RuntimeError, match="time slice"):
        _three_pages(commits, hook)
    assert hooks == [(threading.current_thread().name, 1)]
    assert commits.stopped.is_set()


def _three_pages(commits: PageCommits, hook) -> None:
    with commits:
        for number in (1, 2, 3):  # the third waits for page 1 at the latest: its hook raises
            commits.submit(lambda: None, seen=[], after=hook(number))
