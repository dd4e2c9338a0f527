"""Catalog and completion push to the LearnUpon sandbox (real sockets): creates, re-push,
updates, detaches, completions, rate limits, dry run, retries and failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import Attempt, Course, Learner, Tag
from integrations.core.execute import Reschedule
from integrations.models import PlatformConnection, PlatformLedgerItem, PlatformRun
from integrations.services.platform_execute import platform_run_execute
from tests.factories import AttemptFactory, CourseFactory, IntegrationFactory

pytestmark = pytest.mark.django_db
DONE = datetime(2025, 5, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def lu(make_learnupon_sandbox):
    return make_learnupon_sandbox(users=20)


@pytest.fixture
def connection(lu, make_connection):
    return make_connection(lu)


def make_courses(connection: PlatformConnection, n: int) -> list[Course]:
    integration = IntegrationFactory(group=connection.group)
    tag = Tag.objects.create(name="Data")
    courses = [
        CourseFactory(integration=integration, duration_minutes=30 + i, description=f"<p>{i}</p>")
        for i in range(n)
    ]
    for course in courses[::3]:
        course.tags.add(tag)
    return courses


def push(run_platform, connection, **kwargs) -> PlatformRun:
    run = run_platform(connection, kind="push", **kwargs)
    assert run.status == PlatformRun.Status.SUCCEEDED, (run.error_summary, list(run.errors.all()))
    return run


def test_300_courses_are_pushed_then_a_repush_sends_nothing(lu, connection, run_platform):
    courses = make_courses(connection, 300)
    run = push(run_platform, connection)

    assert run.created == 300 and run.details["courses"]["published"] == 300
    assert len(lu.data.courses) == 300
    assert all(c["published_status_id"] == "published" for c in lu.data.courses.values())
    assert all(c["cataloged"] is True for c in lu.data.courses.values())
    # Safe by default: listed in the catalog, linked to no group, nobody enrolled.
    assert lu.data.group_courses == {} and lu.data.enrollments == {}
    sent = next(
        c for c in lu.data.courses.values() if c["reference_code"].endswith(courses[0].external_id)
    )
    assert sent["name"] == courses[0].title and sent["owner_id"] == 1
    assert sent["minute_length"] == 30.0 and sent["keywords"] == "Data"
    assert sent["reference_code"] == f"udemy-course-{courses[0].external_id}"
    assert run.write_requests == 600  # create + publish, nothing else

    lu.reset_log()
    again = push(run_platform, connection)
    assert lu.writes() == []
    assert again.unchanged == 300 and again.created == again.updated == 0


def test_an_updated_course_sends_one_update(lu, connection, run_platform):
    courses = make_courses(connection, 5)
    push(run_platform, connection)
    courses[2].title = "A brand new title"
    courses[2].save()
    lu.reset_log()

    run = push(run_platform, connection)
    assert [(w["method"], w["path"]) for w in lu.writes()] == [
        (
            "PUT",
            f"/api/v1/courses/{PlatformLedgerItem.objects.get(local_id=courses[2].pk).remote_id}",
        )
    ]
    assert run.updated == 1
    remote = lu.data.courses[int(lu.writes()[0]["path"].rsplit("/", 1)[1])]
    assert remote["name"] == "A brand new title"


def test_an_archived_course_is_detached_not_deleted(lu, connection, run_platform):
    PlatformConnection.objects.filter(pk=connection.pk).update(
        auto_enroll=True, auto_enroll_consent=10_000
    )
    connection.refresh_from_db()
    courses = make_courses(connection, 4)
    push(run_platform, connection)
    Course.objects.filter(pk=courses[1].pk).update(status=Course.Status.ARCHIVED)
    lu.reset_log()

    run = push(run_platform, connection)
    assert [w["method"] for w in lu.writes()] == ["DELETE"]
    assert "/group_courses/" in lu.writes()[0]["path"]
    assert run.removed == 1
    assert len(lu.data.courses) == 4  # the course itself stays in LearnUpon
    assert len(lu.data.group_courses) == 3

    lu.reset_log()
    push(run_platform, connection)
    assert lu.writes() == []  # detached once

    Course.objects.filter(pk=courses[1].pk).update(status=Course.Status.ACTIVE)
    push(run_platform, connection)
    assert len(lu.data.group_courses) == 4  # back in the group


def completed_attempts(connection, lu, run_platform, n: int = 3) -> list[Attempt]:
    """Import the portal's users, then give `n` of them a completed Udemy attempt."""
    run_platform(connection)  # directory import: learners are members of the subgroups
    courses = make_courses(connection, 2)
    learners = Learner.objects.filter(remote_kind="learnupon").exclude(remote_id="1")[:n]
    return [
        AttemptFactory(
            learner=learner,
            course=courses[i % 2],
            completed_at=DONE + timedelta(hours=i),
            progress=100,
            is_open=False,
        )
        for i, learner in enumerate(learners)
    ]


def test_completions_create_enrollments_and_markcompletes_once(lu, connection, run_platform):
    attempts = completed_attempts(connection, lu, run_platform)
    AttemptFactory(learner=attempts[0].learner, course=attempts[1].course)  # in progress
    run = push(run_platform, connection)

    assert run.details["completions"]["enrolled"] == 3
    assert run.details["completions"]["marked"] == 3
    assert len(lu.data.enrollments) == 3 and len(lu.data.markcompletes) == 3
    marks = {m["date_completed"] for m in lu.data.markcompletes}
    assert "2025-05-20T09:30:00Z" in marks
    assert {m["status"] for m in lu.data.markcompletes} == {"completed"}
    emails = {e["email"].lower() for e in lu.data.enrollments.values()}
    assert emails == {a.learner.email.lower() for a in attempts}

    lu.reset_log()
    again = push(run_platform, connection)
    assert lu.writes() == []
    assert again.details["completions"]["unchanged"] == 3


def test_a_newer_completion_sends_a_new_markcomplete(lu, connection, run_platform):
    attempts = completed_attempts(connection, lu, run_platform, n=1)
    push(run_platform, connection)
    Attempt.objects.filter(pk=attempts[0].pk).update(completed_at=DONE + timedelta(days=30))
    lu.reset_log()
    push(run_platform, connection)
    assert [w["path"] for w in lu.writes()] == ["/api/v1/markcompletes"]  # already enrolled


def test_launches_without_udemy_completion_are_not_pushed(lu, connection, run_platform):
    attempts = completed_attempts(connection, lu, run_platform, n=1)
    Attempt.objects.filter(pk=attempts[0].pk).update(source=Attempt.Source.LAUNCH, progress=0)
    run = push(run_platform, connection)
    assert lu.data.markcompletes == []
    assert run.details["completions"]["planned"] == 0


def test_a_refused_completion_is_recorded_and_retried(lu, connection, run_platform):
    attempts = completed_attempts(connection, lu, run_platform, n=2)
    gone = lu.data.user_by_email(attempts[0].learner.email)
    lu.data.users.remove(gone)  # LearnUpon no longer knows the learner

    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.PARTIAL
    error = run.errors.get()
    assert error.category == "completion_refused"
    assert "Failed to find the user specified" in error.message
    item = PlatformLedgerItem.objects.get(
        item_type="completion", local_id__startswith=f"{attempts[0].learner_id}:"
    )
    assert item.is_errored and item.last_status_code == 400
    assert len(lu.data.markcompletes) == 1  # the other one went through

    lu.data.users.append(gone)
    lu.reset_log()
    push(run_platform, connection)
    assert [w["path"] for w in lu.writes()] == ["/api/v1/enrollments", "/api/v1/markcompletes"]
    item.refresh_from_db()
    assert not item.is_errored


def test_a_completion_waits_for_its_course(lu, connection, run_platform):
    completed_attempts(connection, lu, run_platform, n=1)
    lu.fail(path_contains="courses", method="POST", status=400, times=2)  # both creates refused
    run = run_platform(connection, kind="push")
    assert run.pending == 1 and lu.data.markcompletes == []
    push(run_platform, connection)
    assert len(lu.data.markcompletes) == 1


def test_429_and_low_remaining_minute_slow_the_push_and_lose_nothing(lu, connection, run_platform):
    make_courses(connection, 30)
    lu.fail(path_contains="courses", method="POST", status=429, retry_after=0.3, times=2)
    lu.throttle(remaining=1, times=5)

    run = push(run_platform, connection)
    assert run.created == 30
    assert len(lu.data.courses) == 30 and lu.data.group_courses == {}
    statuses = [e["status"] for e in lu.request_log]
    assert statuses.count(429) == 2
    # 2 Retry-After waits + the low-budget pauses (a 429 answer waits for its Retry-After only)
    assert run.details["throttle"]["waits"] >= 5
    assert run.waited_seconds >= 0.6


def test_a_long_retry_after_reschedules_the_run(lu, connection, run_platform, settings):
    make_courses(connection, 3)
    lu.fail(path_contains="courses", method="POST", status=429, retry_after=600)
    run = PlatformRun.objects.create(connection=connection, kind="push", trigger="manual")
    with pytest.raises(Reschedule) as caught:
        platform_run_execute(run_id=run.pk)
    assert caught.value.countdown == 600
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.RUNNING  # resumed by the task's retry
    platform_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.SUCCEEDED
    assert len(lu.data.courses) == 3


def test_dry_run_sends_zero_write_requests(lu, connection, run_platform):
    make_courses(connection, 12)
    run = run_platform(connection, kind="push", dry_run=True)

    assert run.status == PlatformRun.Status.SUCCEEDED
    assert lu.writes() == [] and lu.request_log == []
    assert len(run.plan) == 12
    assert run.plan[0]["action"] == "create+publish"
    assert not PlatformLedgerItem.objects.exists()
    assert run.write_requests == 0


def test_dry_run_after_a_push_lists_only_changes(lu, make_connection, run_platform):
    connection = make_connection(lu, auto_enroll=True, auto_enroll_consent=10_000)
    courses = make_courses(connection, 6)
    push(run_platform, connection)
    Course.objects.filter(pk=courses[0].pk).update(title="Changed")
    Course.objects.filter(pk=courses[1].pk).update(status=Course.Status.ARCHIVED)
    lu.reset_log()
    run = run_platform(connection, kind="push", dry_run=True)
    assert lu.request_log == []
    assert sorted(entry["action"] for entry in run.plan) == ["detach", "update"]


def test_a_crashed_create_is_adopted_not_duplicated(lu, connection, run_platform):
    courses = make_courses(connection, 2)
    push(run_platform, connection)
    # The ledger row of a course is lost (a worker died before saving it).
    PlatformLedgerItem.objects.filter(local_id=str(courses[0].pk)).delete()
    lu.reset_log()
    push(run_platform, connection)
    assert len(lu.data.courses) == 2
    assert ("POST", "/api/v1/courses") not in [(w["method"], w["path"]) for w in lu.writes()]


def test_a_course_deleted_in_learnupon_is_created_again(lu, connection, run_platform):
    courses = make_courses(connection, 1)
    push(run_platform, connection)
    remote_id = int(PlatformLedgerItem.objects.get().remote_id)
    del lu.data.courses[remote_id]
    Course.objects.filter(pk=courses[0].pk).update(title="Changed")
    failed = run_platform(connection, kind="push")
    assert failed.status == PlatformRun.Status.PARTIAL
    assert "creates it again" in failed.errors.get().message
    push(run_platform, connection)
    assert len(lu.data.courses) == 1


def test_rejected_credentials_fail_the_run_and_flag_the_connection(
    lu, make_connection, run_platform
):
    connection = make_connection(lu, learnupon_password="wrong-password")
    make_courses(connection, 1)
    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.FAILED
    assert "rejected the API credentials" in run.error_summary
    connection.refresh_from_db()
    assert connection.status == PlatformConnection.Status.ERROR


def test_a_push_needs_a_course_owner(lu, make_connection, run_platform):
    connection = make_connection(lu, learnupon_owner_id="")
    make_courses(connection, 1)
    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.FAILED
    assert "course owner" in run.error_summary
    assert lu.request_log == []
