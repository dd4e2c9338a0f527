"""Connection services: saving settings (write-only secrets, audit), Test connection, run
requests (busy guard, dry runs), the daily schedule, the hook after a Udemy sync, the tasks."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django_celery_beat.models import PeriodicTask

from integrations.models import PlatformAuditEntry, PlatformConnection, PlatformLease, PlatformRun
from integrations.schedules import ensure_default_schedules
from integrations.services.platforms import (
    connection_get_or_new,
    connection_test,
    connection_update,
    platform_import_scheduled,
    platform_push_after_sync,
    platform_run_request,
)
from tests.factories import GroupFactory, IntegrationFactory, UserFactory

from .conftest import LU_SECRET, assert_no_secret

pytestmark = pytest.mark.django_db


def test_update_keeps_a_blank_secret_and_audits_names_only(learnupon_sandbox):
    group, admin = GroupFactory(), UserFactory()
    connection = connection_get_or_new(group=group)
    connection_update(
        connection=connection,
        actor=admin,
        data={"kind": "learnupon", "learnupon_portal": "demo", "learnupon_username": "u",
              "learnupon_password": LU_SECRET},
    )  # fmt: skip
    changed = connection_update(
        connection=connection,
        actor=admin,
        data={"learnupon_password": "", "learnupon_username": "u2"},
    )
    connection.refresh_from_db()
    assert changed == ["learnupon_username"]
    assert connection.learnupon_password == LU_SECRET  # blank kept the stored secret
    entries = PlatformAuditEntry.objects.filter(connection=connection)
    assert [e.fields for e in entries] == [["learnupon_username"], sorted(
        ["kind", "learnupon_portal", "learnupon_username", "learnupon_password"]
    )]  # fmt: skip
    for entry in entries:
        assert_no_secret(repr(entry.__dict__))


def test_the_secret_is_encrypted_at_rest(learnupon_sandbox, make_connection):
    from django.db import connection as db

    connection = make_connection(learnupon_sandbox)
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT learnupon_password FROM integrations_platformconnection WHERE id = %s",
            [connection.pk],
        )
        stored = cursor.fetchone()[0]
    assert stored and learnupon_sandbox.password not in stored


def test_connectivity_changes_require_a_new_test(learnupon_sandbox, make_connection):
    connection = make_connection(learnupon_sandbox)
    connection_update(connection=connection, actor=None, data={"push_after_sync": False})
    assert connection.status == PlatformConnection.Status.ACTIVE
    connection_update(connection=connection, actor=None, data={"target_group_id": "5002"})
    assert connection.status == PlatformConnection.Status.INACTIVE
    assert "test the connection again" in connection.status_message


def test_test_connection_activates_or_flags(learnupon_sandbox, make_connection):
    connection = make_connection(learnupon_sandbox, status=PlatformConnection.Status.INACTIVE)
    check = connection_test(connection=connection, actor=None)
    assert check.ok and connection.status == PlatformConnection.Status.ACTIVE
    assert connection.last_tested_at is not None

    connection.learnupon_password = "wrong-one"
    connection.save()
    check = connection_test(connection=connection, actor=None)
    assert (check.ok, check.verdict) == (False, "bad_credentials")
    connection.refresh_from_db()
    assert connection.status == PlatformConnection.Status.ERROR
    assert "rejected the API credentials" in connection.status_message


def test_test_connection_with_a_host_not_allowed(make_connection, learnupon_sandbox):
    connection = make_connection(learnupon_sandbox, base_url="https://evil.example.com/api/v1/")
    check = connection_test(connection=connection, actor=None)
    assert (check.ok, check.verdict) == (False, "not_allowed")
    assert learnupon_sandbox.request_log == []


def test_a_second_request_is_skipped_while_one_is_queued(
    learnupon_sandbox, make_connection, record_platform_enqueue, django_capture_on_commit_callbacks
):
    connection = make_connection(learnupon_sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        first = platform_run_request(connection=connection, kind="directory", trigger="manual")
        second = platform_run_request(connection=connection, kind="directory", trigger="manual")
    assert first.status == PlatformRun.Status.QUEUED
    assert second.status == PlatformRun.Status.SKIPPED
    assert record_platform_enqueue == [first.pk]


def test_a_dry_run_runs_at_once_and_is_never_enqueued(
    learnupon_sandbox, make_connection, record_platform_enqueue, django_capture_on_commit_callbacks
):
    connection = make_connection(learnupon_sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        run = platform_run_request(connection=connection, kind="push", trigger="api", dry_run=True)
    assert run.status == PlatformRun.Status.SUCCEEDED and record_platform_enqueue == []
    assert learnupon_sandbox.request_log == []


def test_coursebase_connections_take_no_push(coursebase_sandbox, make_connection):
    with pytest.raises(ValueError, match="can't receive a push"):
        platform_run_request(
            connection=make_connection(coursebase_sandbox), kind="push", trigger="manual"
        )


def test_the_daily_import_runs_once_per_tested_connection_and_day(
    learnupon_sandbox, coursebase_sandbox, make_connection, record_platform_enqueue,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    tested = make_connection(learnupon_sandbox)
    make_connection(coursebase_sandbox, status=PlatformConnection.Status.INACTIVE)
    today = date(2025, 6, 2)
    with django_capture_on_commit_callbacks(execute=True):
        runs = platform_import_scheduled(today=today)
        again = platform_import_scheduled(today=today)
    assert [r.connection_id for r in runs] == [tested.pk]
    assert again == []  # the unique (connection, kind, day) guard
    assert record_platform_enqueue == [runs[0].pk]


def test_the_schedule_is_created_at_0715_paris(settings):
    PeriodicTask.objects.filter(name="Platform directory import (daily)").delete()
    if hasattr(settings, "SYNC_DIRECTORY_AT"):
        del settings.SYNC_DIRECTORY_AT
    ensure_default_schedules()
    task = PeriodicTask.objects.get(name="Platform directory import (daily)")
    assert task.task == "integrations.platform_tasks.import_all_directories"
    assert (task.crontab.hour, task.crontab.minute) == ("7", "15")
    assert str(task.crontab.timezone) == "Europe/Paris"


def test_the_hook_after_a_sync_queues_a_push(
    learnupon_sandbox, make_connection, record_platform_enqueue, django_capture_on_commit_callbacks
):
    connection = make_connection(learnupon_sandbox)
    integration = IntegrationFactory(group=connection.group)
    with django_capture_on_commit_callbacks(execute=True):
        run = platform_push_after_sync(integration.pk)
    assert run.kind == "push" and run.trigger == PlatformRun.Trigger.SYNC
    assert record_platform_enqueue == [run.pk]

    connection.push_after_sync = False
    connection.save()
    assert platform_push_after_sync(integration.pk) is None
    assert platform_push_after_sync(IntegrationFactory().pk) is None  # no connection


def test_the_hook_never_raises(monkeypatch, learnupon_sandbox, make_connection, caplog):
    connection = make_connection(learnupon_sandbox)
    integration = IntegrationFactory(group=connection.group)

    def boom(**kwargs):
        raise RuntimeError("broker down")

    monkeypatch.setattr("integrations.services.platform_runs.platform_run_request", boom)
    with caplog.at_level(logging.ERROR):
        assert platform_push_after_sync(integration.pk) is None
    assert "could not queue the platform push" in caplog.text


def test_the_task_runs_and_reschedules(learnupon_sandbox, make_connection, caplog):
    from integrations.tasks.platforms import run_platform

    connection = make_connection(learnupon_sandbox)
    run = PlatformRun.objects.create(connection=connection, kind="directory", trigger="manual")
    assert run_platform.apply(args=[run.pk]).get() == PlatformRun.Status.SUCCEEDED

    learnupon_sandbox.fail(status=429, retry_after=900, path_contains="groups")
    second = PlatformRun.objects.create(connection=connection, kind="directory", trigger="manual")
    with caplog.at_level(logging.INFO):
        result = run_platform.apply(args=[second.pk])  # eager: the retry runs at once
    assert "Retry in 900s" in caplog.text  # the worker was freed, not blocked for 900 s
    assert result.get() == PlatformRun.Status.SUCCEEDED  # and the run resumed


def test_a_sync_triggered_push_waits_for_the_running_one(learnupon_sandbox, make_connection):
    from integrations.core.execute import Reschedule
    from integrations.core.lease import acquire
    from integrations.services.platform_execute import platform_run_execute

    connection = make_connection(learnupon_sandbox)
    acquire(PlatformLease, connection=connection, kind="push", holder="run:other")
    run = PlatformRun.objects.create(connection=connection, kind="push", trigger="sync")
    with pytest.raises(Reschedule):
        platform_run_execute(run_id=run.pk)
    manual = PlatformRun.objects.create(connection=connection, kind="push", trigger="manual")
    assert platform_run_execute(run_id=manual.pk).status == PlatformRun.Status.SKIPPED


def test_a_second_delivery_of_an_executing_run_waits_instead_of_skipping(
    learnupon_sandbox, make_connection
):
    """The lease holder names one execution: a redelivered run finding its own earlier execution
    (alive, or dead on another host before the lease expired) is rescheduled, never skipped."""
    from integrations.core.execute import Reschedule
    from integrations.core.lease import acquire, execution_holder
    from integrations.services.platform_execute import platform_run_execute

    connection = make_connection(learnupon_sandbox)
    run = PlatformRun.objects.create(connection=connection, kind="directory", trigger="manual")
    elsewhere = f"run:{run.pk}:another-host:4242:0badc0de"
    assert acquire(PlatformLease, connection=connection, kind="directory", holder=elsewhere)
    with pytest.raises(Reschedule) as waited:
        platform_run_execute(run_id=run.pk)
    assert 5 <= waited.value.countdown <= 60
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.QUEUED
    # Two executions of one run never share a holder.
    assert execution_holder(run.pk) != execution_holder(run.pk)
