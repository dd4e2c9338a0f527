from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.celery_worker import celery_process, wait_for, worker_args

pytest_plugins = ["tests.udemy_sandbox_plugin"]


# A fixture that starts a browser or a worker process puts its test out of `make test-fast`.
_MARK_OF_FIXTURE = {"browser": "browser", "celery_worker_process": "celery_worker"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, mark in _MARK_OF_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()) and not item.get_closest_marker(mark):
                item.add_marker(mark)


@pytest.fixture
def worker_queue() -> str:
    """A queue name of this test only: a stray message from another run can't reach it."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def celery_worker_process(tmp_path: Path, worker_queue: str) -> Iterator:
    """A real `celery worker` subprocess consuming `worker_queue` on the configured broker."""
    log = tmp_path / "worker.log"
    with celery_process(
        *worker_args(worker_queue, "--pool", "prefork"),
        log=log,
    ) as proc:
        proc.log_path = log
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        yield proc


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_on_the_test_database(django_db_setup, django_db_blocker) -> Iterator[None]:
    """On PostgreSQL, end any session still open on the test database (a thread or a worker
    process of a test) before Django drops it, which it refuses while anyone is connected.
    Set up after `django_db_setup`, so torn down before it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _site_language_and_zone() -> Iterator[None]:
    """Each test starts in the site's language and time zone. Django's LocaleMiddleware leaves
    the language a request asked for active on its thread, and pytest-django runs the database
    tests first: a French request would otherwise decide the language of the tests after it."""
    from django.utils import timezone, translation

    translation.deactivate()
    timezone.deactivate()
    yield
    translation.deactivate()
    timezone.deactivate()
