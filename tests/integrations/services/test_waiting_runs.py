"""Promise: a rate limit never parks a run forever. A rescheduled run shows until when it waits
and why; a wait longer than RUN_MAX_WAIT, or one more reschedule than the task's retry budget,
closes the run as failed with that reason instead of leaving it "running"."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncError, SyncRun
from integrations.services.sync import sync_execute
from integrations.tasks.common import execute_or_retry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Retried(Exception):
    pass


def task(retries: int = 0, max_retries: int = 50):
    """What `execute_or_retry` uses of a bound Celery task."""

    def retry(countdown: float, exc: Exception) -> Retried:
        return Retried(countdown)

    return SimpleNamespace(
        request=SimpleNamespace(retries=retries), max_retries=max_retries, retry=retry
    )


@pytest.fixture
def rate_limited(make_udemy_sandbox, make_integration, settings):
    settings.UDEMY_RETRY_AFTER_CAP = 5

    def make(retry_after: int):
        sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
        integration = make_integration(sandbox)
        sandbox.fail(path_contains="page=2", status=429, retry_after=retry_after, times=1)
        return SyncRun.objects.create(integration=integration, kind="content", trigger="manual")

    return make


def test_a_rescheduled_run_says_until_when_it_waits_and_why(rate_limited, client, monkeypatch):
    run = rate_limited(600)
    before = timezone.now()
    with pytest.raises(Retried):
        execute_or_retry(task(), sync_execute, run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING
    assert before + timedelta(seconds=590) < run.waiting_until < before + timedelta(seconds=700)
    assert "429" in run.waiting_reason or "rate" in run.waiting_reason.lower()
    client.force_login(UserFactory(is_superuser=True))
    page = client.get(
        reverse("integrations:run", args=[run.integration.group.slug, run.pk])
    ).content.decode()
    assert f"Waiting until {timezone.localtime(run.waiting_until):%Y-%m-%d %H:%M}" in page
    real_time = time.time  # the organization's shared pause is over when the task comes back
    monkeypatch.setattr(time, "time", lambda: real_time() + 601)
    assert execute_or_retry(task(retries=1), sync_execute, run.pk) == SyncRun.Status.SUCCEEDED
    run.refresh_from_db()
    assert run.waiting_until is None and run.waiting_reason == ""


def test_a_retry_after_beyond_the_longest_wait_fails_the_run(rate_limited, settings):
    settings.RUN_MAX_WAIT = 3600
    run = rate_limited(999_999_999)
    assert execute_or_retry(task(), sync_execute, run.pk) == SyncRun.Status.FAILED
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.finished_at
    assert run.waiting_until is None
    error = SyncError.objects.get(run=run, category="wait")
    assert "RUN_MAX_WAIT" in error.message
    assert run.checkpoint == {"courses": 1}  # the committed page stays


def test_a_run_out_of_retries_is_closed_not_left_running(rate_limited):
    run = rate_limited(600)
    status = execute_or_retry(task(retries=50, max_retries=50), sync_execute, run.pk)
    assert status == SyncRun.Status.FAILED
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "50" in SyncError.objects.get(run=run, category="wait").message


def test_a_run_working_elsewhere_is_sent_again_outside_the_wait_limits(
    make_udemy_sandbox, make_integration, settings, monkeypatch
):
    """A split statistics run whose helpers moved since its last look: out of retries and past
    RUN_MAX_WAIT, it is still sent again (a new message, with a fresh retry budget)."""
    from integrations.core.execute import Reschedule
    from integrations.tasks import common

    settings.RUN_MAX_WAIT = 1
    integration = make_integration(make_udemy_sandbox(courses=10, paths=0, learners=1))
    run = SyncRun.objects.create(integration=integration, kind="stats", trigger="manual")
    sent = []
    monkeypatch.setattr(common, "run_enqueue", lambda **kwargs: sent.append(kwargs))

    def look(*, working: bool):
        def execute(*, run_id):
            exc = Reschedule(run_id, 15, "waiting for 3 page ranges on other workers",
                             working=working)  # fmt: skip
            exc.run_model = SyncRun
            raise exc

        return execute

    busy = task(retries=50, max_retries=50)
    busy.name = "integrations.tasks.run_sync"
    assert execute_or_retry(busy, look(working=True), run.pk) == SyncRun.Status.QUEUED
    assert [(s["task_name"], s["run"].pk, s["countdown"]) for s in sent] == [
        ("integrations.tasks.run_sync", run.pk, 15)
    ]
    run.refresh_from_db()
    assert run.waiting_reason.startswith("waiting for 3 page ranges")

    assert execute_or_retry(busy, look(working=False), run.pk) == SyncRun.Status.FAILED
    assert len(sent) == 1
