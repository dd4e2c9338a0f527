"""Promise (Syncs): a run never dies silently — the database going away mid-run ends the run as
failed with a clear error, the pages committed before stay, and the next run succeeds (no stale
RUNNING run or lease left behind to make every later trigger "already running")."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import OperationalError, connection

from catalog.models import Course
from integrations.models import SyncError, SyncLease, SyncPage, SyncRun
from integrations.services import content_sync
from integrations.services.pipeline import WRITE_AHEAD
from integrations.services.sync import SyncExecutor, sync_execute, sync_request_foreground
from integrations.tasks import run_sync

COURSES = 500  # five pages


def next_run_succeeds(integration) -> SyncRun:
    """What the next trigger does: the busy check, then the sync itself."""
    run = sync_request_foreground(integration=integration, kind="content")
    assert run.status != SyncRun.Status.SKIPPED, f"next run skipped: {run.error_summary}"
    run = sync_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert run.fetched == COURSES
    return run


@pytest.mark.django_db
def test_the_database_failing_after_page_two_fails_the_run_clearly_then_the_next_succeeds(
    make_udemy_sandbox, make_integration, run_sync, monkeypatch
):
    sandbox = make_udemy_sandbox(courses=COURSES, paths=0, learners=1)
    integration = make_integration(sandbox)
    write, calls = content_sync.courses_upsert_page, []

    def writer_losing_the_database(**kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise OperationalError("server closed the connection unexpectedly")
        return write(**kwargs)

    monkeypatch.setattr(content_sync, "courses_upsert_page", writer_losing_the_database)
    run = run_sync(integration)
    assert run.status == SyncRun.Status.PARTIAL  # two pages made it
    error = SyncError.objects.get(run=run)
    assert (error.category, error.message) == ("database", "Database error: OperationalError")
    assert run.error_summary == "Database error: OperationalError"
    assert list(SyncPage.objects.filter(run=run).values_list("number", flat=True)) == [1, 2]
    assert Course.objects.filter(integration=integration).count() == 200
    assert not SyncLease.objects.exclude(holder="").exists(), "the lease was released"
    monkeypatch.undo()
    next_run_succeeds(integration)


@pytest.mark.django_db
def test_an_unexpected_error_mid_run_fails_the_run_then_the_next_succeeds(
    make_udemy_sandbox, make_integration, monkeypatch
):
    """A bug (any exception the sync doesn't expect) must not leave a RUNNING run behind."""
    sandbox = make_udemy_sandbox(courses=COURSES, paths=0, learners=1)
    integration = make_integration(sandbox)
    write, calls = content_sync.courses_upsert_page, []

    def buggy_writer(**kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("a bug in the writer")
        return write(**kwargs)

    monkeypatch.setattr(content_sync, "courses_upsert_page", buggy_writer)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    outcome = run_sync.apply(args=[run.pk])  # in this process, as a worker runs it
    monkeypatch.undo()
    run.refresh_from_db()
    assert run.status in (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL), (
        run.status,
        outcome.result,
    )
    assert run.error_summary
    assert not SyncLease.objects.exclude(holder="").exists(), "the lease was released"
    next_run_succeeds(integration)


def terminate_own_backend() -> None:
    """Kill this process's PostgreSQL backend from another connection, and wait until it's gone
    (what a failover, a restart or an idle-session killer does to a worker's connection)."""
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    dsn = {k: params[k] for k in ("dbname", "user", "host", "port", "password") if params.get(k)}
    with psycopg.connect(**dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        query = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        while admin.execute(query, [pid]).fetchone()[0]:
            time.sleep(0.01)


def killing_on_call(target, n: int):
    """`target`, except that its n-th call first kills the database connection."""
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            terminate_own_backend()
        return target(*args, **kwargs)

    return wrapper


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("module", "name", "n"),
    [
        ("integrations.services.content_sync", "courses_upsert_page", 3),  # in a transaction
        pytest.param(
            "integrations.core.lease",
            "renew",
            2,  # an autocommit statement, between two pages
        ),
    ],
    ids=["inside-page-3-transaction", "between-pages-2-and-3"],
)
def test_a_killed_postgresql_connection_fails_the_run_then_the_next_succeeds(
    make_udemy_sandbox, make_integration, monkeypatch, module, name, n
):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's: run with DATABASE_URL=postgres://…")
    sandbox = make_udemy_sandbox(courses=COURSES, paths=0, learners=1)
    integration = make_integration(sandbox)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    target = getattr(__import__(module, fromlist=[name]), name)
    monkeypatch.setattr(SyncExecutor, "renew_seconds", 0)  # the lease renewed at every page
    monkeypatch.setattr(f"{module}.{name}", killing_on_call(target, n))
    run_sync.apply(args=[run.pk])  # in this process, as a worker runs it
    monkeypatch.undo()
    connection.close()  # what Celery's Django fixup does after every task
    run.refresh_from_db()
    assert run.status == SyncRun.Status.PARTIAL, (run.status, run.error_summary)
    assert run.error_summary == "Database error: OperationalError"
    pages = list(
        SyncPage.objects.filter(run=run).order_by("number").values_list("number", flat=True)
    )
    if name == "renew":
        # The renewal runs on the task thread after a page is committed; the writer thread (its
        # own connection) may commit the pages it already holds meanwhile (WRITE_AHEAD): whole
        # pages, in order, from the first, never fewer than the two before the kill.
        assert pages == list(range(1, len(pages) + 1)) and 2 <= len(pages) <= 2 + WRITE_AHEAD
    else:
        assert pages == [1, 2]  # page 3's transaction was the one killed
    assert not SyncLease.objects.exclude(holder="").exists(), "the lease was released"
    next_run_succeeds(integration)
