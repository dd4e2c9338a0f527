"""Promise: a run never stays "running" after its worker died. A run whose lease expired, or
whose holder was a process of this host that is gone, is closed as failed (worker lost) by the
periodic reaper and by the next trigger, which then runs; a run still held, or waiting on a
rate limit, is left alone."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.core.lease import execution_holder
from integrations.models import (
    PlatformConnection,
    PlatformLease,
    PlatformRun,
    SyncError,
    SyncLease,
    SyncRun,
)
from integrations.services.sync import sync_request
from integrations.tasks import reap_stuck_runs
from tests.factories import GroupFactory, IntegrationFactory

pytestmark = pytest.mark.django_db


def dead_pid() -> int:
    pid = 4_000_000  # above any pid_max: no such process
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid += 1


def running(integration, *, holder: str | None, expires_in: timedelta, **fields) -> SyncRun:
    run = SyncRun.objects.create(
        integration=integration,
        kind="content",
        trigger="schedule",
        status=SyncRun.Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=30),
        fetched=1500,
        checkpoint={"courses": 15},
        **fields,
    )
    SyncLease.objects.create(
        integration=integration,
        kind="content",
        holder=holder if holder is not None else execution_holder(run.pk),
        expires_at=timezone.now() + expires_in,
    )
    return run


def host() -> str:
    return socket.gethostname()[:32].replace(":", "-")


def test_the_reaper_closes_runs_whose_worker_is_gone_and_leaves_live_ones():
    killed = running(IntegrationFactory(), holder=None, expires_in=timedelta(minutes=5))
    SyncLease.objects.filter(integration=killed.integration).update(
        holder=f"run:{killed.pk}:{host()}:{dead_pid()}:0badc0de"
    )
    expired = running(IntegrationFactory(), holder=None, expires_in=-timedelta(minutes=1))
    live = running(IntegrationFactory(), holder=None, expires_in=timedelta(minutes=5))
    waiting = running(
        IntegrationFactory(),
        holder="",
        expires_in=-timedelta(minutes=1),
        waiting_until=timezone.now() + timedelta(minutes=10),
        waiting_reason="Udemy asked to retry later (429)",
    )

    assert reap_stuck_runs() == 2

    for run in (killed, expired):
        run.refresh_from_db()
        assert run.status == SyncRun.Status.FAILED and run.finished_at
        error = SyncError.objects.get(run=run)
        assert error.category == "worker_lost"
        assert run.checkpoint == {"courses": 15}  # committed pages stay
    for run in (live, waiting):
        run.refresh_from_db()
        assert run.status == SyncRun.Status.RUNNING


def test_the_next_trigger_closes_a_stuck_run_and_runs(
    django_capture_on_commit_callbacks, monkeypatch
):
    from integrations.services.sync import RUN_SYNC_TASK
    from tests.run_messages import catch_run_messages

    queued: list[int] = []
    catch_run_messages(monkeypatch, RUN_SYNC_TASK, queued.append)
    stuck = running(IntegrationFactory(), holder=None, expires_in=-timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        new = sync_request(integration=stuck.integration, kind="content", trigger="manual")
    stuck.refresh_from_db()
    assert stuck.status == SyncRun.Status.FAILED
    assert new.status == SyncRun.Status.QUEUED and queued == [new.pk]


def test_a_stuck_platform_run_is_reaped_too():
    connection = PlatformConnection.objects.create(group=GroupFactory(), kind="learnupon")
    run = PlatformRun.objects.create(
        connection=connection, kind="directory", trigger="manual", status="running"
    )
    PlatformLease.objects.create(
        connection=connection, kind="directory", holder=execution_holder(run.pk),
        expires_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    assert reap_stuck_runs() == 1
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.FAILED


def test_a_superuser_closes_a_stuck_run_from_the_console_and_nobody_else_can(client):
    from django.urls import reverse

    from tests.factories import UserFactory, group_admin

    stuck = running(IntegrationFactory(), holder=None, expires_in=timedelta(minutes=9))
    slug = stuck.integration.group.slug
    page = reverse("integrations:run", args=[slug, stuck.pk])
    close = reverse("integrations:run_close", args=[slug, stuck.pk])

    client.force_login(group_admin(stuck.integration.group))
    assert b"Close run" not in client.get(page).content
    assert client.post(close).status_code == 404
    stuck.refresh_from_db()
    assert stuck.status == SyncRun.Status.RUNNING

    client.force_login(UserFactory(is_superuser=True))
    assert b"Close run" in client.get(page).content
    assert client.post(close).status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == SyncRun.Status.FAILED
    assert SyncError.objects.get(run=stuck).category == "closed"
    assert not SyncLease.objects.exclude(holder="").exists()  # the next trigger may run
    assert b"Close run" not in client.get(page).content
