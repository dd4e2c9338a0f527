"""Secrets never reach logs, run records or task arguments; the cost of an import grows with
pages, not with rows; two imports of one connection never run at once."""

from __future__ import annotations

import logging

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from integrations.core.lease import acquire
from integrations.models import PlatformError, PlatformLease, PlatformLedgerItem, PlatformRun
from tests.factories import CourseFactory, IntegrationFactory

from .conftest import CB_SECRET, LU_SECRET, assert_no_secret

pytestmark = pytest.mark.django_db


def test_secrets_never_reach_logs_or_records(
    make_learnupon_sandbox, make_coursebase_sandbox, make_connection, run_platform, caplog,
    settings,
):  # fmt: skip
    settings.PLATFORM_MAX_RETRIES = 1
    lu, cb = make_learnupon_sandbox(users=5), make_coursebase_sandbox(users=5)
    # A server that echoes the credentials back in its error bodies.
    lu_echo, cb_echo = {"payload": {"message": LU_SECRET}}, {"payload": {"error": CB_SECRET}}
    lu_connection, cb_connection = make_connection(lu), make_connection(cb)
    CourseFactory.create_batch(2, integration=IntegrationFactory(group=lu_connection.group))
    lu.fail(status=429, retry_after=0.1, path_contains="groups", **lu_echo)
    lu.fail(status=400, path_contains="courses", method="POST", **lu_echo)
    lu.fail(status=500, path_contains="group_memberships", times=5, **lu_echo)
    cb.fail(status=503, times=1, **cb_echo)
    cb.fail(status=400, path_contains="org.users.list", times=3, **cb_echo)
    with caplog.at_level(logging.DEBUG):
        runs = [
            run_platform(lu_connection),
            run_platform(lu_connection, kind="push"),
            run_platform(cb_connection),
        ]
        bad = make_connection(lu, learnupon_password=LU_SECRET + "-wrong")
        runs.append(run_platform(bad))
    assert_no_secret(caplog.text)
    assert any(run.errors.exists() for run in runs)
    for error in PlatformError.objects.all():
        assert_no_secret(error.message + error.excerpt)
    for item in PlatformLedgerItem.objects.all():
        assert_no_secret(item.last_response_excerpt)
    for run in PlatformRun.objects.all():
        assert_no_secret(run.error_summary + repr(run.details) + repr(run.plan) + run.task_id)


def import_queries(sandbox, make_connection, run_platform) -> tuple[int, int]:
    connection = make_connection(sandbox)
    with CaptureQueriesContext(db) as first:
        run_platform(connection)
    with CaptureQueriesContext(db) as second:
        run_platform(connection)
    return len(first.captured_queries), len(second.captured_queries)


def test_import_queries_grow_with_pages_not_rows(
    make_coursebase_sandbox, make_connection, run_platform
):
    small = import_queries(make_coursebase_sandbox(users=200), make_connection, run_platform)
    large = import_queries(make_coursebase_sandbox(users=1000), make_connection, run_platform)
    # 2 → 10 pages of users: the first import's inserts are batched, a re-import is reads only
    assert large[0] <= 5 * small[0], (small, large)
    assert large[1] <= 2 * small[1], (small, large)
    assert large[1] < 150, large


def test_two_imports_of_one_connection_never_run_at_once(
    learnupon_sandbox, make_connection, run_platform
):
    connection = make_connection(learnupon_sandbox)
    acquire(PlatformLease, connection=connection, kind="directory", holder="run:elsewhere")
    run = run_platform(connection)
    assert run.status == PlatformRun.Status.SKIPPED
    assert "already running" in run.error_summary
    assert learnupon_sandbox.request_log == []
