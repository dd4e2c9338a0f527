"""A LearnUpon push is time-sliced like a report export: it yields its worker between two items
and the next execution goes on from the ledger — nothing sent twice, a refusal neither retried
nor counted twice within the run, everything pushed in the end, the counts of the whole run."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import Learner
from integrations.core.execute import Reschedule
from integrations.models import PlatformLedgerItem, PlatformRun
from integrations.services.platform_execute import PlatformExecutor
from tests.factories import AttemptFactory

from .test_learnupon_push import make_courses

pytestmark = pytest.mark.django_db
DONE = datetime(2025, 5, 20, 9, 30, tzinfo=UTC)


def push_to_the_end(connection) -> tuple[PlatformRun, int]:
    """Execute a push as the task does until it ends; the run and its executions."""
    run = PlatformRun.objects.create(connection=connection, kind="push", trigger="manual")
    executions = 0
    while run.status not in PlatformRun.FINISHED:
        executions += 1
        assert executions < 200, "the push does not move on"
        with contextlib.suppress(Reschedule):
            PlatformExecutor().execute(run_id=run.pk)
        run.refresh_from_db()
    return run, executions


@pytest.fixture
def catalog(make_learnupon_sandbox, make_connection, run_platform):
    """8 courses and 5 learners with a Udemy completion, one of whom LearnUpon no longer knows."""
    lu = make_learnupon_sandbox(users=20)
    connection = make_connection(lu)
    run_platform(connection)  # directory import: the portal's users become learners
    courses = make_courses(connection, 8)
    learners = Learner.objects.filter(remote_kind="learnupon").exclude(remote_id="1")[:5]
    for i, learner in enumerate(learners):
        AttemptFactory(
            learner=learner, course=courses[i], completed_at=DONE + timedelta(hours=i),
            progress=100, is_open=False,
        )  # fmt: skip
    lu.data.users.remove(lu.data.user_by_email(learners[0].email))
    lu.reset_log()
    return lu, connection


def test_a_time_sliced_push_goes_on_from_its_ledger(catalog, settings):
    lu, connection = catalog
    settings.RUN_TIME_SLICE = 0.001  # every item uses up the slice

    run, executions = push_to_the_end(connection)

    assert executions >= 8  # the push yielded its worker between items
    writes = Counter((w["method"], w["path"]) for w in lu.writes())
    # Nothing sent twice...
    assert writes[("POST", "/api/v1/courses")] == 8
    assert writes[("POST", "/api/v1/courses/publish")] == 8
    assert writes[("POST", "/api/v1/markcompletes")] == 4
    assert writes[("POST", "/api/v1/enrollments")] <= 5  # the refused one is not retried
    # ...and everything pushed in the end.
    assert len(lu.data.courses) == 8 and len(lu.data.markcompletes) == 4
    assert all(c["published_status_id"] == "published" for c in lu.data.courses.values())
    sent = PlatformLedgerItem.objects.filter(connection=connection, item_type="course")
    assert sent.count() == 8 and all(item.remote_id for item in sent)
    # The counts are those of the whole run, as one push in one piece would give them.
    assert run.status == PlatformRun.Status.PARTIAL  # the learner LearnUpon does not know
    assert run.errors.count() == 1 and run.failed == 1
    assert run.details["courses"]["created"] == 8 and run.details["courses"]["published"] == 8
    assert run.details["courses"]["unchanged"] == 0
    assert run.details["completions"]["marked"] == 4
    assert run.details["completions"]["failed"] == 1
    assert run.details["completions"]["unchanged"] == 0
    assert run.created == 8 + 4 and run.unchanged == 0
    assert "push_so_far" not in run.details

    lu.reset_log()
    settings.RUN_TIME_SLICE = 600
    again, _ = push_to_the_end(connection)
    assert again.details["courses"]["unchanged"] == 8
    assert again.details["completions"]["unchanged"] == 4
    assert [w["path"] for w in lu.writes()] == ["/api/v1/enrollments"]  # the refused one, retried


def test_a_push_in_one_slice_counts_the_same(catalog, settings):
    _, connection = catalog
    settings.RUN_TIME_SLICE = 600

    run, executions = push_to_the_end(connection)

    assert executions == 1
    assert run.details["courses"]["created"] == 8
    assert run.details["completions"]["marked"] == 4
    assert run.details["completions"]["failed"] == 1
    assert run.created == 12 and run.failed == 1 and run.errors.count() == 1
