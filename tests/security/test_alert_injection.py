"""Alerts can't be silenced nor carry phishing.

- A name with a control character (CR/LF: a header injection in the alert's subject) is refused
  where a tenant sets it: the groups and learners API, the admin.
- An alert whose subject would hold one anyway (a name stored earlier, or imported) is still
  sent: the subject is built on one line, bounded.
- An upstream error `detail` (CR/LF, a link) is quoted in both parts of the e-mail as a bounded,
  single-line excerpt without links.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Group, Learner
from integrations.models import AlertEmail, Integration, SyncError, SyncRun
from integrations.services.alerts import (
    alert_emails_send,
    alerts_on_owner_status_changed,
    alerts_on_run_ended,
)
from tests.factories import GroupFactory, IntegrationFactory, group_admin
from tests.run_messages import catch_sent_tasks

pytestmark = pytest.mark.django_db

BAD_NAMES = [
    "Sales\r\nBcc: victim@example.com",
    "Sales\nX",
    "Sales\rX",
    "Sales\x00X",
    "Sales\x1b[31mX",
    "Sales\u2028X",
    "Sales\x85X",
    "Sales\tX",
]
PHISHING = (
    "Your Udemy API key was revoked.\r\n\r\nTo restore the sync, sign in again at "
    "https://evil.example/lmsbridge/login within 24 hours."
)


@pytest.fixture(autouse=True)
def _no_queueing(monkeypatch):
    catch_sent_tasks(monkeypatch)


@pytest.fixture
def group():
    return GroupFactory(name="Sales", slug="sales")


@pytest.fixture
def admin_user(group):
    return group_admin(group, username="alice")


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


# --------------------------------------------------------------------------- names refused


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_api_refuses_a_group_name_with_a_control_character(api, group, name):
    response = api.patch("/api/v1/groups/sales/", {"name": name}, format="json")
    assert response.status_code == 400, response.content
    assert "name" in response.json()
    assert "control characters" in str(response.json()["name"]).lower()
    group.refresh_from_db()
    assert group.name == "Sales"
    created = api.post(
        "/api/v1/groups/", {"slug": "sub", "name": name, "parent": "sales"}, format="json"
    )
    assert created.status_code == 400
    assert not Group.objects.filter(slug="sub").exists()


def test_the_api_still_takes_an_ordinary_name(api, group):
    response = api.patch("/api/v1/groups/sales/", {"name": "Sales – EMEA (ü)"}, format="json")
    assert response.status_code == 200
    group.refresh_from_db()
    assert group.name == "Sales – EMEA (ü)"


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_the_api_refuses_a_learner_name_with_a_control_character(api, group, field):
    body = {"email": "new@example.com", "groups": ["sales"], field: "Eve\r\nBcc: x@example.com"}
    response = api.post("/api/v1/learners/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Learner.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize(
    ("model", "data"), [(Group, {"slug": "x"}), (Learner, {"email": "a@example.com"})]
)
def test_the_admin_refuses_a_name_with_a_control_character(model, data):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    form_class = model_admin.get_form(request)
    field = "name" if model is Group else "first_name"
    form = form_class(data={**data, field: "A\r\nB", "language": "en", "is_active": True})
    assert not form.is_valid()
    assert field in form.errors


# --------------------------------------------------------------------------- e-mails robust


@pytest.fixture
def integration(group, admin_user):
    return IntegrationFactory(
        group=group,
        status=Integration.Status.ACTIVE,
        activated_at=timezone.now(),
        last_content_sync=timezone.now(),
        last_stats_sync=timezone.now(),
    )


def test_an_alert_of_a_group_named_with_crlf_is_still_delivered(
    integration, group, mailoutbox, settings
):
    settings.ADMINS = [("Ops", "ops@example.com")]
    # A stored name (older data, the admin site, a raw SQL fix) at the column's 200 characters.
    name = "Sales\r\nBcc: victim@example.com"
    Group.objects.filter(pk=group.pk).update(name=name + "x" * (200 - len(name)))
    integration.refresh_from_db()
    run = SyncRun.objects.create(
        integration=integration, kind="content", trigger="manual", status="failed",
        finished_at=timezone.now(), error_summary="Udemy is down",
    )  # fmt: skip
    assert alerts_on_run_ended(run=run) is not None

    result = alert_emails_send()

    assert result.sent == 1 and result.failed == 0
    (email,) = mailoutbox
    assert "\n" not in email.subject and "\r" not in email.subject
    assert len(email.subject) <= 200
    assert "victim@example.com" not in email.to and "ops@example.com" in email.to


def test_a_stored_subject_with_crlf_is_still_sent(integration, mailoutbox):
    AlertEmail.objects.create(
        integration=integration, topic="status", state="error", recipients=["a@example.com"],
        subject="[LMS Bridge] A\r\nBcc: victim@example.com", text_body="t", html_body="<p>t</p>",
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    assert alert_emails_send().sent == 1
    assert "\n" not in mailoutbox[0].subject


def _assert_quoted_safely(email) -> None:
    html = email.alternatives[0][0]
    for part in (email.body, html):
        assert "evil.example" not in part, part
        assert "https://evil" not in part
        assert "revoked." in part  # the upstream's words are there, quoted
    line = next(line for line in email.body.splitlines() if "revoked" in line)
    assert "To restore the sync, sign in again at" in line  # one line


def test_an_upstream_detail_with_a_link_is_quoted_without_it(integration, mailoutbox):
    Integration.objects.filter(pk=integration.pk).update(
        status="error", error_kind="credentials",
        status_message=f"Udemy rejected the credentials (401: {PHISHING})",
    )  # fmt: skip
    integration.refresh_from_db()
    assert alerts_on_owner_status_changed(integration=integration, new="error") is not None
    alert_emails_send()
    _assert_quoted_safely(mailoutbox[0])


def test_an_upstream_detail_in_the_run_and_its_errors_is_quoted_without_links(
    integration, mailoutbox
):
    run = SyncRun.objects.create(
        integration=integration, kind="content", trigger="manual", status="failed",
        finished_at=timezone.now(), error_summary=f"Udemy answered 500 ({PHISHING})",
    )  # fmt: skip
    SyncError.objects.create(
        # as long as the column holds (1,000 characters): the e-mail still quotes one short line
        run=run, category="UdemyError", external_id="www.evil.example/x",
        message=(PHISHING * 10)[:1000],
    )  # fmt: skip
    assert alerts_on_run_ended(run=run) is not None
    alert_emails_send()
    email = mailoutbox[0]
    _assert_quoted_safely(email)
    error_line = next(line for line in email.body.splitlines() if "[UdemyError]" in line)
    assert len(error_line) < 400
