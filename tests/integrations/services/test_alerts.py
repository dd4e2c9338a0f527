"""Alerts by e-mail: one e-mail per change of state, to the admins who did not turn them off,
never a secret in it; stale data after 36 hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integrations.models import AlertEmail, AlertOptOut, Integration, SyncError, SyncRun
from integrations.services.alerts import (
    alert_emails_send,
    alert_recipients,
    alerts_check_stale,
    alerts_on_owner_status_changed,
    alerts_on_run_ended,
    alerts_set_enabled,
    redact,
)
from tests.factories import GroupFactory, IntegrationFactory, group_admin, group_learner
from tests.run_messages import catch_sent_tasks

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t/Val+ue=never-mailed"


@pytest.fixture(autouse=True)
def _no_queueing(monkeypatch):
    """These tests send the outbox themselves: nothing goes to the broker."""
    catch_sent_tasks(monkeypatch)


@pytest.fixture
def group():
    return GroupFactory(name="Sales", slug="sales")


@pytest.fixture
def admin(group):
    return group_admin(group, username="alice")


@pytest.fixture
def integration(group, admin):
    return IntegrationFactory(
        group=group,
        client_secret=SECRET,
        status=Integration.Status.ACTIVE,
        activated_at=timezone.now(),
        last_content_sync=timezone.now(),
        last_stats_sync=timezone.now(),
    )


def _run(integration, status, kind="content", **fields) -> SyncRun:
    return SyncRun.objects.create(
        integration=integration,
        kind=kind,
        trigger=SyncRun.Trigger.MANUAL,
        status=status,
        finished_at=timezone.now(),
        **fields,
    )


def _states(integration) -> list[str]:
    return list(AlertEmail.objects.filter(integration=integration).values_list("state", flat=True))


def test_two_failures_in_a_row_send_one_email(integration, mailoutbox):
    first = alerts_on_run_ended(run=_run(integration, "failed", error_summary="Udemy is down"))
    second = alerts_on_run_ended(run=_run(integration, "failed", error_summary="Still down"))
    assert first is not None and second is None
    assert alert_emails_send().sent == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "[LMS Bridge] Udemy content sync of Sales: failed"
    assert "Udemy is down" in message.body
    html = message.alternatives[0][0]
    assert "Udemy is down" in html and message.alternatives[0][1] == "text/html"
    assert alert_emails_send().sent == 0  # sent once


def test_failure_success_failure_sends_failed_recovered_failed(integration, mailoutbox):
    for status in ("failed", "succeeded", "succeeded", "failed"):
        alerts_on_run_ended(run=_run(integration, status))
    assert _states(integration) == ["failed", "recovered", "failed"]
    assert alert_emails_send().sent == 3
    assert ["recovered" in m.subject for m in mailoutbox] == [False, True, False]


def test_the_first_success_alerts_nothing(integration):
    alerts_on_run_ended(run=_run(integration, "succeeded"))
    assert _states(integration) == []


@pytest.mark.parametrize("status", ["partial", "timed_out", "failed"])
def test_bad_outcomes_are_alerted_with_counts_errors_and_the_run_link(
    integration, status, settings
):
    settings.SITE_URL = "https://bridge.example.com"
    run = _run(integration, status, fetched=302, created=100, failed=2)
    for n in range(7):
        SyncError.objects.create(
            run=run, external_id=f"c{n}", category="mapping", message=f"bad {n}"
        )
    email = alerts_on_run_ended(run=run)
    assert email is not None
    assert f"https://bridge.example.com/groups/sales/settings/integrations/runs/{run.pk}/" in (
        email.text_body
    )
    assert "Fetched: 302" in email.text_body and "Failed items: 2" in email.text_body
    assert "First errors (5 of 7)" in email.text_body
    assert "bad 4" in email.text_body and "bad 5" not in email.text_body


def test_statistics_and_content_are_separate_topics(integration):
    alerts_on_run_ended(run=_run(integration, "failed", kind="content"))
    alerts_on_run_ended(run=_run(integration, "failed", kind="stats"))
    assert _states(integration) == ["failed", "failed"]


def test_entered_error_is_one_email_with_what_to_do(integration):
    run = _run(integration, "failed", error_summary="Udemy rejected the credentials")
    Integration.objects.filter(pk=integration.pk).update(
        status="error", error_kind="credentials", status_message="Udemy rejected the credentials"
    )
    integration.refresh_from_db()
    email = alerts_on_owner_status_changed(integration=integration, new="error")
    # The same failure's run_ended adds nothing: the Error e-mail told it.
    assert alerts_on_run_ended(run=run) is None
    assert alerts_on_owner_status_changed(integration=integration, new="error") is None
    assert _states(integration) == ["error"]
    assert "in Error" in email.subject
    assert "Udemy rejected the credentials" in email.text_body
    assert "client secret" in email.text_body  # the advice of a credentials error
    assert f"runs/{run.pk}/" in email.text_body


def test_syncs_failing_while_in_error_are_told_by_the_error_email_alone(integration):
    Integration.objects.filter(pk=integration.pk).update(status="error", error_kind="unavailable")
    integration.refresh_from_db()
    alerts_on_owner_status_changed(integration=integration, new="error")
    alerts_on_run_ended(run=_run(integration, "failed", kind="stats"))
    alerts_on_run_ended(run=_run(integration, "timed_out", kind="content"))
    Integration.objects.filter(pk=integration.pk).update(status="active", error_kind="")
    integration.refresh_from_db()
    alerts_on_owner_status_changed(integration=integration, new="active")
    alerts_on_run_ended(run=_run(integration, "succeeded", kind="stats"))
    assert _states(integration) == ["error", "recovered"]
    alerts_on_run_ended(run=_run(integration, "failed", kind="stats"))
    assert _states(integration) == ["error", "recovered", "failed"]


def test_recovered_after_error_is_one_email(integration):
    alerts_on_run_ended(run=_run(integration, "failed"))
    alerts_on_owner_status_changed(integration=integration, new="error")
    success = _run(integration, "succeeded")
    alerts_on_owner_status_changed(integration=integration, new="active")
    alerts_on_run_ended(run=success)
    assert _states(integration) == ["failed", "error", "recovered"]


def test_an_admin_who_opted_out_receives_nothing_other_admins_and_ADMINS_do(
    integration, group, admin, settings
):
    settings.ADMINS = [("Ops", "ops@example.com")]
    bob = group_admin(group, username="bob")
    group_learner(group, username="leo")
    group_admin(GroupFactory(), username="carol")
    assert alert_recipients(group=group) == [
        "alice@example.com",
        "bob@example.com",
        "ops@example.com",
    ]
    alerts_set_enabled(user=bob, group=group, enabled=False)
    email = alerts_on_run_ended(run=_run(integration, "failed"))
    assert email.recipients == ["alice@example.com", "ops@example.com"]
    alerts_set_enabled(user=bob, group=group, enabled=True)
    assert "bob@example.com" in alert_recipients(group=group)


def test_without_recipients_the_state_is_still_recorded(integration, admin, group):
    alerts_set_enabled(user=admin, group=group, enabled=False)
    assert alerts_on_run_ended(run=_run(integration, "failed")) is None
    alerts_set_enabled(user=admin, group=group, enabled=True)
    assert alerts_on_run_ended(run=_run(integration, "failed")) is None  # not a new state


def test_stale_after_36_hours_once_then_recovered(integration):
    now = timezone.now()
    Integration.objects.filter(pk=integration.pk).update(
        last_content_sync=now - timedelta(hours=35), last_stats_sync=now - timedelta(hours=1)
    )
    assert alerts_check_stale(now=now) == []
    later = now + timedelta(hours=1, minutes=1)
    emails = alerts_check_stale(now=later)
    assert [(e.topic, e.state) for e in emails] == [("stale_content", "stale")]
    assert "no successful sync for 36 hours" in emails[0].subject
    assert alerts_check_stale(now=later + timedelta(hours=1)) == []
    Integration.objects.filter(pk=integration.pk).update(last_content_sync=later)
    emails = alerts_check_stale(now=later + timedelta(hours=2))
    assert [(e.topic, e.state) for e in emails] == [("stale_content", "recovered")]


def test_statistics_stale_and_integrations_in_error_are_checked_inactive_ones_not(
    integration, group
):
    now = timezone.now()
    old = now - timedelta(hours=40)
    Integration.objects.filter(pk=integration.pk).update(status="error", last_stats_sync=old)
    inactive = IntegrationFactory(
        group=GroupFactory(), status=Integration.Status.INACTIVE, last_content_sync=None
    )
    group_admin(inactive.group)
    emails = alerts_check_stale(now=now)
    assert [(e.integration_id, e.topic) for e in emails] == [(integration.pk, "stale_stats")]


def test_never_synced_counts_from_the_activation(integration):
    now = timezone.now()
    Integration.objects.filter(pk=integration.pk).update(
        last_content_sync=None, activated_at=now - timedelta(hours=37)
    )
    emails = alerts_check_stale(now=now)
    assert [e.topic for e in emails] == ["stale_content"]


def test_an_alert_never_contains_the_secret_nor_url_credentials(integration, mailoutbox):
    from urllib.parse import quote

    leaky = (
        f"refused at http://user:hunter2@127.0.0.1:9/api with {SECRET} "
        f"({quote(SECRET, safe='')}) and " + SECRET.replace("/", "\\/")
    )
    Integration.objects.filter(pk=integration.pk).update(
        api_base_url="http://user:hunter2@127.0.0.1:9/",
        status="error",
        error_kind="unavailable",
        status_message=leaky[:500],
    )
    integration.refresh_from_db()
    run = _run(integration, "failed", error_summary=leaky)
    SyncError.objects.create(run=run, category="http", message=leaky, excerpt=leaky)
    alerts_on_owner_status_changed(integration=integration, new="error")
    Integration.objects.filter(pk=integration.pk).update(status="active")
    alerts_on_owner_status_changed(integration=integration, new="active")
    alerts_on_run_ended(run=_run(integration, "partial", error_summary=leaky))
    alerts_on_run_ended(run=_run(integration, "failed", kind="stats", error_summary=leaky))
    assert alert_emails_send().sent == 4
    assert len(mailoutbox) == 4
    for message in mailoutbox:
        whole = message.message().as_string() + message.body + message.alternatives[0][0]
        for needle in (SECRET, quote(SECRET, safe=""), "hunter2", "user:"):
            assert needle not in whole, needle
    for message in (mailoutbox[0], *mailoutbox[2:]):
        assert "[hidden]" in message.body
        # Upstream text is quoted without its links (phishing sent in our name otherwise).
        assert "http://127.0.0.1:9/api" not in message.body
        assert "refused at [link removed] with [hidden]" in message.body


def test_redact_strips_userinfo_and_every_form_of_a_secret():
    text = "https://a:b@host/x smtp://only@host/ " + "p/a+s s" + " p%2Fa%2Bs%20s p%2Fa%2Bs+s"
    assert redact(text, secrets=("p/a+s s",)) == (
        "https://host/x smtp://host/ [hidden] [hidden] [hidden]"
    )


def test_a_failed_send_is_retried_later_and_logged(integration, settings, caplog, mailoutbox):
    settings.EMAIL_BACKEND = "tests.integrations.services.test_alerts.BrokenBackend"
    now = timezone.now()
    alerts_on_run_ended(run=_run(integration, "failed"), now=now)
    with caplog.at_level("WARNING", logger="integrations.services.alerts.outbox"):
        result = alert_emails_send(now=now)
    assert (result.sent, result.failed, result.retry_in) == (0, 1, 60)
    assert "could not be sent" in caplog.text and "ConnectionRefusedError" in caplog.text
    email = AlertEmail.objects.get()
    assert email.sent_at is None and email.attempts == 1
    assert alert_emails_send(now=now + timedelta(seconds=30)).failed == 0  # not due yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alert_emails_send(now=now + timedelta(seconds=61)).sent == 1
    assert len(mailoutbox) == 1


def test_the_send_task_retries_itself_after_the_delay(integration, settings, monkeypatch):
    from celery.exceptions import Retry

    from integrations.tasks import send_alerts

    settings.EMAIL_BACKEND = "tests.integrations.services.test_alerts.BrokenBackend"
    alerts_on_run_ended(run=_run(integration, "failed"))
    countdowns = []

    def retry(countdown):
        countdowns.append(countdown)
        return Retry()

    monkeypatch.setattr(send_alerts, "retry", retry)
    with pytest.raises(Retry):
        send_alerts()
    assert countdowns == [60]
    assert AlertEmail.objects.get().attempts == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


# ------------------------------------------------------------------ turning alerts off


def test_the_integration_page_turns_alerts_off_and_on(client, integration, admin, group):
    client.force_login(admin)
    page = reverse("integrations:provider", kwargs={"slug": "sales", "provider": "udemy"})
    toggle = reverse("integrations:alerts", kwargs={"slug": "sales", "provider": "udemy"})
    html = client.get(page).content.decode()
    assert 'data-testid="alerts-state">On<' in html
    assert "succeeded for 36 hours" in html
    assert client.post(toggle, {"enabled": "0"}).status_code == 302
    assert AlertOptOut.objects.filter(user=admin, group=group).exists()
    assert 'data-testid="alerts-state">Off<' in client.get(page).content.decode()
    client.post(toggle, {"enabled": "1"})
    assert not AlertOptOut.objects.exists()


def test_another_groups_admin_cannot_toggle(client, integration):
    outsider = group_admin(GroupFactory(), username="mallory")
    client.force_login(outsider)
    toggle = reverse("integrations:alerts", kwargs={"slug": "sales", "provider": "udemy"})
    assert client.post(toggle, {"enabled": "0"}).status_code == 404
    assert not AlertOptOut.objects.exists()


def test_the_api_reads_and_sets_the_preference(integration, admin, group):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")
    url = "/api/v1/groups/sales/integrations/udemy/alerts/"
    assert api.get(url).json() == {"enabled": True}
    assert api.put(url, {"enabled": False}, format="json").json() == {"enabled": False}
    assert api.get(url).json() == {"enabled": False}
    assert api.put(url, {"enabled": "maybe"}, format="json").status_code == 400
    other = APIClient()
    outsider = group_admin(GroupFactory(), username="mallory")
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=outsider).key}")
    assert other.get(url).status_code == 404


# ------------------------------------------------------------------ wiring


def test_a_failing_sandbox_sync_records_one_alert_through_the_signals(
    udemy_sandbox, make_integration, run_sync, django_capture_on_commit_callbacks, group
):
    group_admin(group, username="alice")
    integration = make_integration(udemy_sandbox, group=group, client_secret="wrong-secret")
    with django_capture_on_commit_callbacks(execute=True):
        first = run_sync(integration)
    with django_capture_on_commit_callbacks(execute=True):
        run_sync(integration)
    assert first.status == "failed"
    integration.refresh_from_db()
    assert integration.status == "error"
    emails = AlertEmail.objects.filter(integration=integration)
    assert [(e.topic, e.state) for e in emails] == [("status", "error")]
    assert "wrong-secret" not in emails[0].text_body


def test_the_hourly_check_is_scheduled():
    from integrations.schedules import INTERVAL_SCHEDULES

    assert ("integrations.tasks.check_alerts", 3600) in [(t, s) for _, t, s in INTERVAL_SCHEDULES]


@pytest.mark.django_db(transaction=True)
def test_the_error_email_shows_the_run_as_it_ended(udemy_sandbox, make_integration, run_sync):
    """Outside a test's transaction the owner's Error is told after commit: the e-mail is
    rendered once the run is finished, never "Running" beside an integration in Error."""
    group = GroupFactory(name="Ops", slug="ops")
    group_admin(group, username="olga")
    integration = make_integration(udemy_sandbox, group=group, client_secret="wrong-secret")
    run = run_sync(integration)
    assert run.status == "failed"
    email = AlertEmail.objects.get(integration=integration, topic="status")
    assert "Running" not in email.text_body
    assert "Failed" in email.text_body


def test_an_alert_raised_in_a_french_request_is_written_in_the_sites_language(integration):
    """The admin whose action raised it may read French; its recipients are many: the e-mail
    is in the site's language (LANGUAGE_CODE), labels included."""
    from django.utils import translation

    with translation.override("fr"):
        alerts_on_run_ended(run=_run(integration, "failed", error_summary="Udemy is down"))
        assert translation.get_language() == "fr"  # the request's language is left as it was
    body = AlertEmail.objects.get(integration=integration).text_body
    assert "Run #" in body and "Exécution" not in body, body
