"""Promises of applying stored statements to attempts (360Learning's attempt rules, as the
statistics sync; statements repeat and arrive out of order)."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Attempt
from integrations.models import XapiStatement
from integrations.services.xapi_apply import xapi_apply_pending, xapi_waiting_retry
from integrations.services.xapi_intake import xapi_statements_store
from tests.factories import AttemptFactory, CourseFactory, LearnerFactory, MembershipFactory

from .conftest import COMPLETED, post, statement

pytestmark = pytest.mark.django_db


def send(door, *bodies) -> None:
    xapi_statements_store(integration=door.integration, body=list(bodies))


def attempt_of(door, course=None) -> Attempt:
    return Attempt.objects.get(learner=door.learner, course=course or door.course)


def test_a_progress_statement_opens_a_first_attempt_and_time_spent_is_untouched(door):
    send(door, statement(door, door.course.external_id, progress=25))
    counts = xapi_apply_pending(integration_id=door.integration.pk)
    assert (counts.applied, counts.created) == (1, 1)
    attempt = attempt_of(door)
    assert (attempt.number, attempt.progress, attempt.is_open) == (1, 25.0, True)
    assert attempt.completed_at is None
    assert attempt.time_spent_ms == 0
    assert XapiStatement.objects.get().state == XapiStatement.State.APPLIED


def test_matching_by_launch_url_and_case_insensitive_email(door):
    body = statement(door.learner.email.upper(), door.course.launch_url.upper().replace(
        "HTTPS://DEMO.UDEMY.COM", "https://demo.udemy.com"), progress=40)  # fmt: skip
    body["object"]["id"] = door.course.launch_url.rstrip("/") + "?utm=x"
    send(door, body)
    xapi_apply_pending(integration_id=door.integration.pk)
    assert attempt_of(door).progress == 40


def test_an_older_statement_never_moves_progress_backwards(door):
    cid = door.course.external_id
    send(door, statement(door, cid, progress=60, timestamp="2026-12-07T09:30:00Z"))
    xapi_apply_pending(integration_id=door.integration.pk)
    send(door, statement(door, cid, progress=20, timestamp="2026-12-07T09:00:00Z"))
    xapi_apply_pending(integration_id=door.integration.pk)
    attempt = attempt_of(door)
    assert attempt.progress == 60
    assert attempt.first_activity.isoformat().startswith("2026-12-07T09:00")


def test_out_of_order_in_one_batch_ends_on_the_newest(door):
    cid = door.course.external_id
    send(door, statement(door, cid, progress=80, timestamp="2026-12-07T09:40:00Z"),
         statement(door, cid, progress=30, timestamp="2026-12-07T09:10:00Z"))  # fmt: skip
    xapi_apply_pending(integration_id=door.integration.pk)
    assert attempt_of(door).progress == 80


def test_a_completion_closes_the_attempt_and_it_stays_completed(door):
    cid = door.course.external_id
    send(door, statement(door, cid, progress=50, timestamp="2026-12-07T09:00:00Z"),
         statement(door, cid, verb=COMPLETED, timestamp="2026-12-07T09:10:00Z"))  # fmt: skip
    xapi_apply_pending(integration_id=door.integration.pk)
    send(door, statement(door, cid, progress=10, timestamp="2026-12-07T10:00:00Z"))
    xapi_apply_pending(integration_id=door.integration.pk)
    attempt = attempt_of(door)
    assert attempt.completed_at.isoformat().startswith("2026-12-07T09:10")
    assert (attempt.progress, attempt.is_open, attempt.completion_source) == (100, False, "udemy")


def test_result_completion_true_completes_too(door):
    send(door, statement(door, door.course.external_id, result={"completion": True}))
    xapi_apply_pending(integration_id=door.integration.pk)
    assert attempt_of(door).completed_at is not None


def test_the_latest_attempt_gets_the_figures_and_loses_its_fingerprint(door):
    AttemptFactory(learner=door.learner, course=door.course, number=1, progress=100,
                   completed_at="2026-11-01T10:00:00Z", is_open=False, time_spent_ms=5000,
                   fingerprint="f1")  # fmt: skip
    second = AttemptFactory(learner=door.learner, course=door.course, number=2, progress=5,
                            first_activity="2026-12-01T10:00:00Z",
                            last_activity="2026-12-01T10:00:00Z", fingerprint="f2")  # fmt: skip
    send(door, statement(door, door.course.external_id, progress=45))
    xapi_apply_pending(integration_id=door.integration.pk)
    second.refresh_from_db()
    first = Attempt.objects.get(learner=door.learner, course=door.course, number=1)
    assert (second.progress, second.fingerprint) == (45, "")
    assert (first.time_spent_ms, first.fingerprint) == (5000, "f1")


def test_a_launch_attempt_stays_closed_and_takes_a_later_completion(door):
    launch = AttemptFactory(learner=door.learner, course=door.course, source="launch",
                            launched_at="2026-12-07T08:00:00Z", completed_at="2026-12-07T08:00:00Z",
                            is_open=False, progress=0)  # fmt: skip
    send(door, statement(door, door.course.external_id, progress=30))
    xapi_apply_pending(integration_id=door.integration.pk)
    launch.refresh_from_db()
    assert (launch.progress, launch.is_open, launch.completion_source) == (30, False, "launch")
    send(door, statement(door, door.course.external_id, verb=COMPLETED))
    xapi_apply_pending(integration_id=door.integration.pk)
    launch.refresh_from_db()
    assert launch.completion_source == "udemy"


def test_unmatched_statements_wait_and_are_applied_once_learner_and_course_appear(door):
    send(door, statement("newcomer@example.com", door.course.external_id, progress=15),
         statement(door, "999999", progress=35))  # fmt: skip
    counts = xapi_apply_pending(integration_id=door.integration.pk)
    assert (counts.applied, counts.waiting) == (0, 2)
    reasons = set(XapiStatement.objects.values_list("reason", flat=True))
    assert len(reasons) == 2
    newcomer = LearnerFactory(email="NewComer@example.com")
    MembershipFactory(group=door.integration.group, learner=newcomer)
    CourseFactory(integration=door.integration, external_id="999999")
    assert xapi_waiting_retry(integration_id=door.integration.pk) == 2
    counts = xapi_apply_pending(integration_id=door.integration.pk)
    assert (counts.applied, counts.waiting) == (2, 0)
    assert Attempt.objects.get(learner=newcomer).progress == 15


def test_a_learning_path_statement_gives_the_path_an_attempt(door):
    send(door, statement(door, door.path.launch_url, progress=50),
         statement(door, "path-77", verb=COMPLETED, timestamp="2026-12-07T10:00:00Z"))  # fmt: skip
    xapi_apply_pending(integration_id=door.integration.pk)
    attempt = attempt_of(door, door.path)
    assert (attempt.progress, attempt.is_open) == (100, False)


def test_an_account_actor_matches_the_learners_platform_id(door):
    door.learner.remote_kind, door.learner.remote_id = "learnupon", "lu-42"
    door.learner.save()
    body = statement(door, door.course.external_id, progress=70)
    body["actor"] = {"account": {"homePage": "https://lms.example.com", "name": "lu-42"}}
    send(door, body)
    xapi_apply_pending(integration_id=door.integration.pk)
    assert attempt_of(door).progress == 70


def test_a_token_never_writes_another_groups_learners_or_courses(door, other_door):
    """A's door, statements naming B's learner and B's course: nothing of B is written."""
    client = Client()
    token = door.token()
    bodies = [statement(other_door, other_door.course.external_id, progress=90),
              statement(other_door, door.course.external_id, progress=90),
              statement(door, other_door.course.launch_url, progress=90)]  # fmt: skip
    assert post(client, door, token, bodies).status_code == 200
    counts = xapi_apply_pending(integration_id=door.integration.pk)
    assert (counts.applied, counts.waiting) == (0, 3)
    assert not Attempt.objects.exists()
    assert not XapiStatement.objects.filter(integration=other_door.integration).exists()


def test_waiting_statements_are_retried_when_a_run_ends(
    door, monkeypatch, django_capture_on_commit_callbacks
):
    """A content sync that brings the course puts the statements waiting for it back in line as
    it ends, not at the next periodic retry; a failed run changes nothing. (A directory
    import's end is followed by the same receiver, for every integration with waiting ones.)"""
    from integrations.core.runs import run_finish
    from integrations.models import SyncRun
    from integrations.tasks import xapi as xapi_tasks

    monkeypatch.setattr(xapi_tasks, "xapi_apply_soon", lambda pk: xapi_tasks.xapi_apply(pk))
    send(door, statement(door, "888888", progress=40))
    assert xapi_apply_pending(integration_id=door.integration.pk).waiting == 1
    CourseFactory(integration=door.integration, external_id="888888")

    failed = SyncRun.objects.create(integration=door.integration, kind="content", trigger="manual")
    with django_capture_on_commit_callbacks(execute=True):
        run_finish(run=failed, status=SyncRun.Status.FAILED)
    assert XapiStatement.objects.get().state == XapiStatement.State.WAITING

    run = SyncRun.objects.create(integration=door.integration, kind="content", trigger="manual")
    with django_capture_on_commit_callbacks(execute=True):
        run_finish(run=run, status=SyncRun.Status.SUCCEEDED)
    assert XapiStatement.objects.get().state == XapiStatement.State.APPLIED
