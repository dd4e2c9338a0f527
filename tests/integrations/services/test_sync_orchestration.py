"""Scheduling, rescheduling, time limits and the operator commands around a sync."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from catalog.models import Course
from integrations.core.execute import Reschedule
from integrations.core.lease import acquire
from integrations.models import Integration, SyncLease, SyncRun
from integrations.services import sync as sync_service
from integrations.services.sync import sync_execute, sync_request_scheduled
from integrations.tasks.sync import sync_all_stats
from tests.factories import IntegrationFactory, SyncRunFactory
from tests.run_messages import catch_run_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_enqueue(monkeypatch):
    sent = []
    catch_run_messages(monkeypatch, sync_service.RUN_SYNC_TASK, sent.append)
    return sent


def test_the_daily_trigger_requests_one_run_per_active_integration_and_day(
    no_enqueue, django_capture_on_commit_callbacks
):
    active = [IntegrationFactory(status=Integration.Status.ACTIVE) for _ in range(2)]
    IntegrationFactory(status=Integration.Status.INACTIVE)
    today = date(2026, 3, 29)
    with django_capture_on_commit_callbacks(execute=True):
        runs = sync_request_scheduled(kind="content", today=today)
        again = sync_request_scheduled(kind="content", today=today)
    assert sorted(r.integration_id for r in runs) == sorted(i.pk for i in active)
    assert again == []  # the (integration, kind, local day) guard: no double daily run
    assert len(no_enqueue) == 2
    assert {r.trigger for r in runs} == {SyncRun.Trigger.SCHEDULE}


def test_statistics_also_run_in_the_evening_once_per_day(
    no_enqueue, django_capture_on_commit_callbacks
):
    """360Learning (newer versions of the connector page): statistics are also synchronized at
    19:45 CET. The evening schedule is on by default, passes its slot to the task, and the
    once-a-day guard counts each slot apart."""
    schedule = PeriodicTask.objects.get(name="Udemy statistics sync (evening)")
    assert schedule.enabled and schedule.task == "integrations.tasks.sync_all_stats"
    assert (schedule.crontab.hour, schedule.crontab.minute) == ("19", "45")
    integration = IntegrationFactory(status=Integration.Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        morning = sync_all_stats()
        morning_again = sync_all_stats()
        SyncRun.objects.filter(integration=integration).update(status=SyncRun.Status.SUCCEEDED)
        evening = sync_all_stats(**json.loads(schedule.kwargs))
        evening_again = sync_all_stats(**json.loads(schedule.kwargs))
    assert (morning, morning_again, evening, evening_again) == (1, 0, 1, 0)
    runs = SyncRun.objects.filter(integration=integration, kind="stats").order_by("pk")
    assert [r.scheduled_slot for r in runs] == ["", "evening"]
    assert {r.scheduled_for for r in runs} == {timezone.localdate()}
    assert len(no_enqueue) == 2


def test_a_long_retry_after_reschedules_the_run_and_it_resumes(
    make_udemy_sandbox, make_integration, settings, monkeypatch
):
    settings.UDEMY_RETRY_AFTER_CAP = 5
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    integration = make_integration(sandbox)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    sandbox.fail(path_contains="page=2", status=429, retry_after=600, times=1)
    with pytest.raises(Reschedule) as excinfo:
        sync_execute(run_id=run.pk)
    assert excinfo.value.countdown == 600  # the task retries itself later; no worker blocked
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING
    assert run.checkpoint == {"courses": 1}
    # The pause is the organization's (its shared budget): delivered early, the task is told
    # to come back when it ends, without a request.
    requests_before = len(sandbox.request_log)
    with pytest.raises(Reschedule) as excinfo:
        sync_execute(run_id=run.pk)
    assert 590 <= excinfo.value.countdown <= 600
    assert len(sandbox.request_log) == requests_before
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 601)  # the pause is over
    run = sync_execute(run_id=run.pk)  # the retried task
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.created == 250
    pages = [r["query"] for r in sandbox.request_log if r["status"] == 200]
    assert sum("page=1&" in q + "&" for q in pages) == 1  # page 1 fetched once: resumed


def test_the_statistics_sync_waits_for_a_running_content_sync(make_udemy_sandbox, make_integration):
    sandbox = make_udemy_sandbox(courses=10, paths=0, learners=2)
    integration = make_integration(sandbox)
    assert acquire(SyncLease, integration=integration, kind="content", holder="run:content")
    run = SyncRun.objects.create(integration=integration, kind="stats", trigger="schedule")
    with pytest.raises(Reschedule):
        sync_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED
    assert sandbox.request_log == []


def test_the_soft_time_limit_closes_the_run_as_timed_out(
    make_udemy_sandbox, make_integration, monkeypatch
):
    sandbox = make_udemy_sandbox(courses=10, paths=0, learners=1)
    integration = make_integration(sandbox)

    def too_long(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(sync_service, "content_sync", too_long)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    run = sync_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.TIMED_OUT
    assert run.errors.filter(category="timeout").exists()


def test_sync_udemy_command_runs_in_the_foreground(make_udemy_sandbox, make_integration, capsys):
    sandbox = make_udemy_sandbox(courses=120, paths=0, learners=1)
    integration = make_integration(sandbox)
    call_command("sync_udemy", integration.group.slug, "--kind", "content")
    out = capsys.readouterr().out
    assert "120/120 items" in out
    assert "succeeded" in out
    assert Course.objects.count() == 120
    call_command("sync_udemy", integration.group.slug, "--kind", "content", "--json")
    printed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert printed["counts"]["unchanged"] == 120


def test_sync_udemy_command_fails_loudly(make_udemy_sandbox, make_integration):
    sandbox = make_udemy_sandbox(courses=5, paths=0, learners=1)
    integration = make_integration(sandbox, client_secret="nope")
    with pytest.raises(CommandError, match="failed"):
        call_command("sync_udemy", integration.group.slug)
    with pytest.raises(CommandError, match="no Udemy integration"):
        call_command("sync_udemy", "no-such-group")


def test_purge_keeps_recent_and_running_runs():
    old = SyncRunFactory(status=SyncRun.Status.SUCCEEDED)
    SyncRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=120))
    old_running = SyncRunFactory(status=SyncRun.Status.RUNNING)
    SyncRun.objects.filter(pk=old_running.pk).update(
        created_at=timezone.now() - timedelta(days=120)
    )
    recent = SyncRunFactory(status=SyncRun.Status.FAILED)
    call_command("purge_sync_runs", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {old_running.pk, recent.pk}
