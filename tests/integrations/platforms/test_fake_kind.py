"""A third learning-platform kind, added with one folder (tests/integrations/platforms/fake_kind/)
and one registry line, runs through the connector core unchanged: its run is created, audited,
leased, executed, its bad item becomes a run error, and a platform error closes the run and puts
the connection in Error."""

from __future__ import annotations

import pytest

from catalog.models import Group, Learner
from integrations.connectors.platforms import PLATFORMS
from integrations.core import lease
from integrations.models import (
    PlatformAuditEntry,
    PlatformConnection,
    PlatformError,
    PlatformLease,
    PlatformRun,
)
from integrations.platforms.base import PlatformAuthError
from integrations.services.platforms import connection_test, platform_run_request
from integrations.tasks.platforms import run_platform
from tests.factories import GroupFactory, UserFactory

from .fake_kind import connector as fake

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_kind(monkeypatch) -> str:
    # The one registry line a new kind needs.
    monkeypatch.setitem(PLATFORMS, "fakelms", fake.FakeConnector())
    monkeypatch.setattr(fake, "FAIL_WITH", [])
    return "fakelms"


@pytest.fixture
def connection(fake_kind) -> PlatformConnection:
    group = GroupFactory(name="Fake group", slug="fake-group")
    connection = PlatformConnection.objects.create(group=group, kind=fake_kind)
    admin = UserFactory(is_superuser=True)
    assert connection_test(connection=connection, actor=admin).ok
    connection.refresh_from_db()
    assert connection.status == PlatformConnection.Status.ACTIVE
    return connection


def _request(connection: PlatformConnection, django_capture_on_commit_callbacks, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(run_platform, "apply_async", lambda args, **kw: queued.append(args[0]))
    user = UserFactory(is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        run = platform_run_request(
            connection=connection, kind=PlatformRun.Kind.DIRECTORY, trigger="manual", user=user
        )
    assert queued == [run.pk]  # enqueued through the core, by task name
    return run, user


def test_a_new_kind_imports_through_the_core(
    connection, django_capture_on_commit_callbacks, monkeypatch
):
    run, user = _request(connection, django_capture_on_commit_callbacks, monkeypatch)
    actions = list(
        PlatformAuditEntry.objects.filter(connection=connection).values_list("action", "actor")
    )
    assert ("directory", user.pk) in actions  # the request is audited by the core

    assert run_platform.apply(args=[run.pk]).get() == PlatformRun.Status.PARTIAL
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.PARTIAL  # two users imported, one refused
    assert run.started_at and run.finished_at
    error = PlatformError.objects.get(run=run)
    assert (error.external_id, error.category) == ("u3", "invalid_item")
    assert "no e-mail" in error.message
    assert set(Learner.objects.values_list("email", flat=True)) >= {
        "ada@fake.example",
        "grace@fake.example",
    }
    assert Group.objects.filter(name="Fake sales").exists()
    # The lease was taken and given back.
    assert lease.current(PlatformLease, connection=connection, kind="directory") == ("", 0.0)
    connection.refresh_from_db()
    assert connection.last_import_at is not None


def test_a_new_kind_gets_the_lease_of_the_core(
    connection, django_capture_on_commit_callbacks, monkeypatch
):
    run, _ = _request(connection, django_capture_on_commit_callbacks, monkeypatch)
    assert lease.acquire(PlatformLease, connection=connection, kind="directory", holder="run:x")
    run_platform.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.SKIPPED
    assert "already running" in run.error_summary
    assert not Learner.objects.filter(email="ada@fake.example").exists()


def test_a_platform_error_of_a_new_kind_closes_the_run_and_flags_the_connection(
    connection, django_capture_on_commit_callbacks, monkeypatch
):
    run, _ = _request(connection, django_capture_on_commit_callbacks, monkeypatch)
    monkeypatch.setattr(fake, "FAIL_WITH", [PlatformAuthError("The fake LMS refused the key.")])
    run_platform.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.FAILED
    assert PlatformError.objects.get(run=run).category == "auth"
    connection.refresh_from_db()
    assert connection.status == PlatformConnection.Status.ERROR
    assert connection.status_message == "The fake LMS refused the key."
    assert lease.current(PlatformLease, connection=connection, kind="directory") == ("", 0.0)
