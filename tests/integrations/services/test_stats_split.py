"""One statistics report split across workers (STATS_SPLIT_PAGES): page ranges claimed by whoever
is free, each page committed once with its range's progress, the run closed by its own task once
every range is done — with the same attempts as an unsplit run, a dead helper's range taken over
from where it stopped, helpers' failures left to the run's own task, and two real workers."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt
from integrations.core import lease
from integrations.core.execute import Reschedule
from integrations.core.reaper import runs_reap
from integrations.core.runs import run_wait
from integrations.models import SyncPage, SyncRange, SyncRun
from integrations.providers.udemy.provider import make_client, stats_stream
from integrations.services import stats_split
from integrations.services.stats_split import split_plan
from integrations.services.sync import sync_execute, sync_range_execute
from integrations.tasks import run_sync as run_sync_task
from tests.celery_worker import ready_workers, wait_for
from tests.factories import UserFactory
from tests.integrations.services.audience import register

REPORT = {"courses": 120, "paths": 0, "learners": 100, "activity_per_learner": 25}
PAGES = 26  # 2,505 rows (25 per learner and the unknown learners' rows), 100 a page


def _synced(make_udemy_sandbox, make_integration, run_sync, **kwargs):
    sandbox = make_udemy_sandbox(**REPORT, **kwargs)
    integration = make_integration(sandbox)
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    register(sandbox.data.learner_emails, integration.group)
    sandbox.reset_log()
    return sandbox, integration


def _activity_pages(sandbox) -> list[int]:
    return [
        int(parse_qs(entry["query"]).get("page", ["1"])[0])
        for entry in sandbox.request_log
        if entry["path"].endswith("/analytics/user-course-activity/")
    ]


def _attempts(integration) -> set[tuple]:
    return set(
        Attempt.objects.filter(course__integration=integration).values_list(
            "learner__email", "course__external_id", "progress", "time_spent_ms", "is_open"
        )
    )


def test_the_plan_cuts_pages_after_the_first_and_leaves_the_last_range_open():
    assert split_plan(count=2_450, every=5) == [(2, 6), (7, 11), (12, 16), (17, 21), (22, None)]
    assert split_plan(count=600, every=5) == []  # 5 pages after the first: not worth it
    assert split_plan(count=None, every=5) == []
    assert split_plan(count=10_000, every=0) == []


@pytest.mark.parametrize(
    ("scale", "prior"),
    [("0-100", ""), ("0-1", "0-100")],
    ids=["same-scale", "scale-changed"],
)
@pytest.mark.django_db
def test_a_split_report_gives_the_attempts_of_an_unsplit_one(
    make_udemy_sandbox, make_integration, run_sync, settings, scale, prior
):
    """Also when the report's scale is not the one its pages were applied on (the previous
    report was 0-100, this one is 0-1): every range is read again and applied on 0-1."""
    settings.STATS_SPLIT_WORKERS = 0  # no helper: the run's own task works every range
    _, plain = _synced(make_udemy_sandbox, make_integration, run_sync, ratio_scale=scale)
    plain_run = run_sync(plain, "stats")
    assert plain_run.status == SyncRun.Status.SUCCEEDED, plain_run.error_summary
    expected = {(e, c, p, t, o) for e, c, p, t, o in _attempts(plain)}
    assert not SyncRange.objects.filter(run=plain_run).exists()

    settings.STATS_SPLIT_PAGES = 5
    sandbox, integration = _synced(make_udemy_sandbox, make_integration, run_sync,
                                   ratio_scale=scale)  # fmt: skip
    if prior:
        SyncRun.objects.create(integration=integration, kind="stats", trigger="manual",
                               status="succeeded", ratio_scale=prior)  # fmt: skip
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    ranges = list(SyncRange.objects.filter(run=run))
    assert [(r.first, r.last) for r in ranges] == [(2, 6), (7, 11), (12, 16), (17, 21), (22, None)]
    assert all(r.done and r.holder == "" and r.scale == scale for r in ranges)
    reads = 2 if prior else 1  # read, then read again on the decided scale
    assert sorted(_activity_pages(sandbox)) == sorted(list(range(1, PAGES + 1)) * reads)
    assert list(
        SyncPage.objects.filter(run=run).order_by("number").values_list("number", flat=True)
    ) == list(range(1, PAGES + 1))
    assert _attempts(integration) == expected
    assert run.fetched == plain_run.fetched == len(sandbox.data.activity)
    assert (run.created, run.unmatched_learners) == (
        plain_run.created,
        plain_run.unmatched_learners,
    )
    assert run.progress_percent == 100 and run.streams[0].done == run.fetched
    assert run.streams[0].ranges == 5
    assert run.ratio_scale == plain_run.ratio_scale


def _split_and_leave(run: SyncRun, monkeypatch) -> None:
    """Execute the run until it has split its report, then stop it there (rescheduled, as when
    its time slice is used): every range is left to the helpers."""

    def reschedule(**kwargs):
        raise Reschedule(run.pk, 1, "left to the helpers")

    with monkeypatch.context() as patch:
        patch.setattr("integrations.services.stats_sync.ranges_work", reschedule)
        with pytest.raises(Reschedule):
            sync_execute(run_id=run.pk)
    assert SyncRange.objects.filter(run=run).count() == 5


@pytest.fixture
def left_to_helpers(make_udemy_sandbox, make_integration, run_sync, settings, monkeypatch):
    """A statistics run split in 5 ranges (pages of 5, no helper sent) whose own task stopped
    right after the split: (sandbox, integration, run)."""
    settings.STATS_SPLIT_PAGES = 5
    settings.STATS_SPLIT_WORKERS = 0
    sandbox, integration = _synced(make_udemy_sandbox, make_integration, run_sync)
    run = SyncRun.objects.create(integration=integration, kind="stats", trigger="manual")
    _split_and_leave(run, monkeypatch)
    return sandbox, integration, run


@pytest.mark.django_db
def test_a_dead_helpers_range_is_taken_over_where_it_stopped(left_to_helpers, monkeypatch):
    """A helper commits three pages of its range and its process is killed (its claim is never
    given back): the run's own task takes the range over at once (same host, pid gone) and
    reads only the pages it lacks."""
    sandbox, integration, run = left_to_helpers
    dead = f"run:{run.pk}:{lease._host()}:999999:deadbeef"
    pages = []

    def killed_after_three_pages():
        pages.append(1)
        if len(pages) == 3:
            raise KeyboardInterrupt  # stands for SIGKILL: nothing after it runs

    with monkeypatch.context() as patch:
        patch.setattr(lease, "execution_holder", lambda run_id: dead)
        patch.setattr(lease, "release", lambda *args, **kwargs: None)
        with pytest.raises(KeyboardInterrupt):
            sync_range_execute(run_id=run.pk, on_page=killed_after_three_pages)
    first = SyncRange.objects.get(run=run, first=2)
    assert (first.holder, first.next_page, first.done) == (dead, 5, False)
    sandbox.reset_log()

    run = sync_execute(run_id=run.pk)  # the run's task is delivered again
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert sorted(_activity_pages(sandbox)) == list(range(5, PAGES + 1))  # not 2..4 again
    assert SyncPage.objects.filter(run=run).count() == PAGES
    assert run.fetched == len(sandbox.data.activity)
    assert Attempt.objects.filter(course__integration=integration).count() == run.created


@pytest.mark.django_db
def test_a_range_its_helpers_keep_failing_is_left_to_the_runs_own_task(left_to_helpers, settings):
    sandbox, _, run = left_to_helpers
    # Udemy refuses every request of the helpers, three times over (no retry: it would only wait).
    settings.UDEMY_MAX_RETRIES = 0
    sandbox.fail(status=503, times=1_000)
    for _ in range(stats_split.MAX_HELPER_FAILURES):
        assert sync_range_execute(run_id=run.pk) == "done"
    ranges = SyncRange.objects.filter(run=run)
    assert all(r.failures == stats_split.MAX_HELPER_FAILURES for r in ranges)
    assert all("503" in r.error or "unavailable" in r.error.lower() for r in ranges), [
        r.error for r in ranges
    ]
    assert sync_range_execute(run_id=run.pk) == "done"  # a helper no longer touches them
    sandbox.reset_faults()
    run = sync_execute(run_id=run.pk)  # the run's own task takes them
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert run.fetched == len(sandbox.data.activity)


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_share_one_report(
    make_udemy_sandbox, make_integration, run_sync, tmp_path, worker_queue
):
    """Two worker processes, one statistics run split in ranges of 3 pages: both workers claim
    ranges, every page is committed once, and the run closes with every row applied."""
    sandbox, integration = _synced(make_udemy_sandbox, make_integration, run_sync, latency=0.1)
    run = SyncRun.objects.create(integration=integration, kind="stats", trigger="manual")
    env = {
        "STATS_SPLIT_PAGES": "3",
        "STATS_SPLIT_WORKERS": "3",
        "UDEMY_PAGE_CONCURRENCY": "2",
        "CELERY_TASK_DEFAULT_QUEUE": worker_queue,  # the helpers go where these workers listen
    }
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with ready_workers(worker_queue, logs, **env):
        run_sync_task.apply_async(args=[run.pk], queue=worker_queue)

        def finished() -> bool:
            return SyncRun.objects.get(pk=run.pk).status in SyncRun.FINISHED

        wait_for(finished, timeout=180, message="the run to finish")
    run.refresh_from_db()
    texts = [log.read_text() for log in logs]
    assert run.status == SyncRun.Status.SUCCEEDED, (run.error_summary, texts)
    assert all(" claimed from page " in text for text in texts), texts  # both took ranges
    assert SyncRange.objects.filter(run=run, done=True).count() == 9  # 2..26 by 3
    assert sorted(_activity_pages(sandbox)) == list(range(1, PAGES + 1))
    assert SyncPage.objects.filter(run=run).count() == PAGES
    assert run.fetched == len(sandbox.data.activity)
    assert Attempt.objects.filter(course__integration=integration).count() == run.created > 0


@pytest.mark.django_db
def test_a_helper_stops_at_its_next_page_once_the_run_is_closed(left_to_helpers):
    *_, run = left_to_helpers
    pages = []

    def closed_after_two_pages():
        pages.append(1)
        if len(pages) == 2:  # a superuser closes the run (or the reaper does)
            SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.FAILED)

    assert sync_range_execute(run_id=run.pk, on_page=closed_after_two_pages) == "done"
    first = SyncRange.objects.get(run=run, first=2)
    assert (first.next_page, first.done, first.holder) == (4, False, "")  # pages 2 and 3 only
    assert SyncPage.objects.filter(run=run).count() == 3  # page 1 and those two
    assert not SyncRange.objects.filter(run=run, first__gt=2).exclude(next_page=F("first"))


@pytest.mark.django_db
def test_a_range_applied_before_the_scale_was_known_is_stale_unless_only_zeros(
    make_udemy_sandbox, make_integration, run_sync
):
    _, integration = _synced(make_udemy_sandbox, make_integration, run_sync)
    run = SyncRun.objects.create(integration=integration, kind="stats", trigger="manual")
    stream = stats_stream(make_client(integration))
    for first, scale, evidence in [
        (2, "", {"fractions": 3}),  # applied as 0-100 while nothing had decided: stale on 0-1
        (4, "", {}),  # only zeros: the same on every scale
        (6, "0-100", {"above_one": 1}),
        (8, "0-1", {"fractions": 1}),
    ]:
        SyncRange.objects.create(run=run, kind=stream.name, first=first, last=first + 1,
                                 next_page=first + 2, done=True, scale=scale,
                                 evidence=evidence)  # fmt: skip
    assert stats_split.split_stale(run=run, stream=stream, final="0-1") == [(2, 3), (6, 7)]
    assert stats_split.split_stale(run=run, stream=stream, final="0-100") == [(2, 3), (8, 9)]


@pytest.mark.django_db
def test_the_runs_own_task_is_working_while_its_helpers_move_and_waits_when_they_do_not(
    left_to_helpers,
):
    """While the helpers' pages add up, its looks at them are work (no wait limit: a long
    split report is not failed for waiting); once they stop moving, it waits like any run."""
    _, integration, run = left_to_helpers
    run.refresh_from_db()
    stream = stats_stream(make_client(integration))
    with pytest.raises(Reschedule) as first_look:
        stats_split.split_wait_or_go_on(run=run, stream=stream)
    assert first_look.value.working  # page 1 was not seen yet
    with pytest.raises(Reschedule) as second_look:
        stats_split.split_wait_or_go_on(run=run, stream=stream)
    assert not second_look.value.working  # nothing moved since
    assert "waiting for 5 page ranges" in second_look.value.reason
    SyncRun.objects.filter(pk=run.pk).update(progress_done=F("progress_done") + 100)
    with pytest.raises(Reschedule) as third_look:
        stats_split.split_wait_or_go_on(run=run, stream=stream)
    assert third_look.value.working
    assert run.stream_progress["user_course_activity"]["done"] == run.progress_done


@pytest.mark.django_db
def test_a_split_run_whose_helpers_hold_ranges_is_not_reaped(left_to_helpers):
    _, integration, run = left_to_helpers
    SyncRun.objects.filter(pk=run.pk).update(waiting_until=None)  # its own task is lost
    live = SyncRange.objects.filter(run=run, first=2)
    live.update(holder=lease.execution_holder(run.pk), expires_at=timezone.now() + lease.LEASE_TTL)
    assert runs_reap(SyncRun, integration=integration) == []  # a helper works on it
    live.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert [r.pk for r in runs_reap(SyncRun, integration=integration)] == [run.pk]


@pytest.mark.django_db
def test_the_run_page_shows_a_split_report_and_what_its_task_waits_for(left_to_helpers, client):
    _, integration, run = left_to_helpers
    run.refresh_from_db()
    with pytest.raises(Reschedule) as look:
        stats_split.split_wait_or_go_on(run=run, stream=stats_stream(make_client(integration)))
    run_wait(run=run, seconds=look.value.countdown, reason=look.value.reason)
    client.force_login(UserFactory(is_superuser=True))
    page = client.get(reverse("integrations:run", args=[integration.group.slug, run.pk]))
    text = page.content.decode()
    assert "split across workers in 5 page ranges" in text
    assert "waiting for 5 page ranges on other workers" in text
    assert "100 / 2,505" in text or "100 / 2505" in text  # page 1 committed, the total known
