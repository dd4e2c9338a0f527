"""A spent LearnUpon week alerts the connected group's admins once, and its renewal once more
(the same outbox, recipients and redaction as the Udemy integrations' alerts)."""

from __future__ import annotations

import pytest

from integrations.models import AlertEmail, PlatformRun
from integrations.services.alerts import alert_emails_send
from integrations.services.alerts.states import alerts_on_platform_run_ended
from tests.factories import group_admin
from tests.integrations.platforms.test_learnupon_enrollment import Clock
from tests.integrations.platforms.test_learnupon_push import make_courses
from tests.run_messages import catch_sent_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queueing(monkeypatch):
    catch_sent_tasks(monkeypatch)


def test_a_spent_week_is_alerted_once_then_its_renewal(
    make_learnupon_sandbox, make_connection, run_platform, settings, mailoutbox
):
    settings.LEARNUPON_MIN_REMAINING_WEEK = 5
    clock = Clock()
    lu = make_learnupon_sandbox(remaining_week=20, clock=clock)
    connection = make_connection(lu)
    admin = group_admin(connection.group)
    make_courses(connection, 10)

    spent = run_platform(connection, kind="push")
    email = alerts_on_platform_run_ended(run=spent)
    assert email is not None and email.connection == connection and email.integration is None
    assert email.recipients == [admin.email]
    assert "weekly API budget used up" in email.subject
    assert f"/runs/{spent.pk}/" in email.text_body and "renews the week" in email.text_body
    assert lu.password not in email.text_body + email.html_body

    again = run_platform(connection, kind="push")  # the same week: stopped again, not re-told
    assert again.status == PlatformRun.Status.FAILED
    assert alerts_on_platform_run_ended(run=again) is None

    clock.now += 7 * 24 * 3600
    lu.remaining_week = 1000
    through = run_platform(connection, kind="push")
    while through.status != PlatformRun.Status.SUCCEEDED:  # resumes from its ledger
        through = run_platform(connection, kind="push")
    recovered = alerts_on_platform_run_ended(run=through)
    assert recovered is not None and "recovered" in recovered.subject
    assert alerts_on_platform_run_ended(run=run_platform(connection, kind="push")) is None

    assert alert_emails_send().sent == 2
    assert [m.subject for m in mailoutbox] == [email.subject, recovered.subject]


def test_the_run_ended_signal_writes_the_alert(
    make_learnupon_sandbox,
    make_connection,
    run_platform,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.LEARNUPON_MIN_REMAINING_WEEK = 5
    lu = make_learnupon_sandbox(remaining_week=8, clock=Clock())
    connection = make_connection(lu)
    group_admin(connection.group)
    make_courses(connection, 10)
    with django_capture_on_commit_callbacks(execute=True):
        run_platform(connection, kind="push")
    assert AlertEmail.objects.filter(connection=connection, state="spent").count() == 1


def test_an_ordinary_failure_or_a_first_success_sends_no_budget_alert(
    make_learnupon_sandbox, make_connection, run_platform
):
    lu = make_learnupon_sandbox(users=5)
    connection = make_connection(lu)
    group_admin(connection.group)
    assert alerts_on_platform_run_ended(run=run_platform(connection)) is None  # first success
    lu.fail(path_contains="users", status=500, times=50)
    assert alerts_on_platform_run_ended(run=run_platform(connection)) is None  # not the budget
    assert not AlertEmail.objects.exists()
