"""An integration in Error: the advice names a button that is on the page, "Check again" re-runs
the credential check without any change, the advice names the admin's own last change when it
came before the failure, and the audit of a first setup names only what was set."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from integrations.core.errors import CredentialCheck
from integrations.models import AuditEntry, Integration
from integrations.providers.udemy.provider import UdemyProvider
from integrations.services.setup import integration_get_or_new, integration_save
from tests.factories import GroupFactory, group_admin, group_learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return GroupFactory(name="Sales", slug="sales")


@pytest.fixture
def admin(group):
    return group_admin(group, username="alice")


# --------------------------------------------------------------------------- first setup audit


def test_a_first_setup_audits_only_the_fields_that_were_set(monkeypatch, group, admin):
    """A blank API address and toggles left at their default were never set: the trail of a
    first SETUP INTEGRATION must not read "turned learning paths off, changed the API address"."""
    passed = CredentialCheck(ok=True, verdict="ok", message="Connected")
    monkeypatch.setattr(UdemyProvider, "check_credentials", lambda self, integration: passed)
    data = {
        "client_id": "id-1",
        "client_secret": "secret-1",
        "organization_name": "acme",
        "organization_id": "42",
        "api_base_url": "",
        "sync_tags": True,
        "sync_learning_paths": False,
        "page_concurrency": None,
    }
    integration = integration_get_or_new(group=group)
    result = integration_save(integration=integration, actor=admin, data=data, activate=True)
    assert result.ok
    entry = AuditEntry.objects.get(integration=integration, action="update")
    assert entry.fields == [
        "client_id",
        "client_secret",
        "organization_id",
        "organization_name",
        "sync_tags",
    ]
    assert entry.toggles == {"sync_tags": True}


# --------------------------------------------------------------------------- the Error banner


@pytest.fixture
def sandbox(make_udemy_sandbox):
    return make_udemy_sandbox()


@pytest.fixture
def working(make_integration, sandbox, group):
    """An active integration whose stored credentials Udemy accepts."""
    return make_integration(sandbox, group=group)


def in_error(integration: Integration, kind: str, **fields) -> Integration:
    Integration.objects.filter(pk=integration.pk).update(
        status=Integration.Status.ERROR, error_kind=kind, status_message="It failed.", **fields
    )
    integration.refresh_from_db()
    return integration


def page_url(group) -> str:
    return reverse("integrations:provider", args=[group.slug, "udemy"])


def check_url(group) -> str:
    return reverse("integrations:check", args=[group.slug, "udemy"])


def banner(html: str) -> str:
    start = html.index('data-testid="status-message"')
    return html[start : html.index('data-testid="error-actions"', start)]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", ["credentials", "unavailable", "bad_response"])
def test_every_advice_names_a_button_that_is_on_the_page(
    client: Client, admin, group, working, kind, language
):
    in_error(working, kind)
    client.force_login(admin)
    html = client.get(page_url(group), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    named = re.findall(r'<strong class="button-name">([^<]+)</strong>', banner(html))
    assert named, "the advice names no button"
    for name in named:
        assert re.search(rf"<button[^>]*>\s*{re.escape(name)}\s*</button>", html), name
    assert "SETUP INTEGRATION" not in banner(html)
    if language == "fr":
        assert "Udemy" in banner(html) and "cliquez sur" in banner(html)


@pytest.mark.parametrize("kind", ["credentials", "unavailable"])
def test_check_again_clears_an_error_the_check_answers(client: Client, admin, group, working, kind):
    in_error(working, kind)
    client.force_login(admin)
    response = client.post(check_url(group), follow=True)
    html = response.content.decode()
    assert "the integration is Active again" in html
    assert 'data-testid="status-message"' not in html
    working.refresh_from_db()
    assert (working.status, working.error_kind, working.status_message) == ("active", "", "")
    assert AuditEntry.objects.filter(integration=working, action="check_passed").count() == 1


def test_check_again_refused_keeps_the_error_and_says_why(client: Client, admin, group, working):
    in_error(working, "credentials", client_secret="a-secret-udemy-no-longer-accepts")
    before = Integration.objects.values().get(pk=working.pk)
    client.force_login(admin)
    html = client.post(check_url(group), follow=True).content.decode()
    assert "Checked again:" in html and "Nothing was changed." in html
    assert 'data-testid="status-message"' in html
    after = Integration.objects.values().get(pk=working.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    refused = AuditEntry.objects.get(integration=working, action="check_refused")
    assert refused.detail == "bad_credentials"
    assert "a-secret-udemy-no-longer-accepts" not in html


def test_check_again_does_not_clear_bad_responses(client: Client, admin, group, working):
    """Only a run tells bad responses stopped: the banner offers Sync now to clear instead."""
    in_error(working, "bad_response")
    client.force_login(admin)
    html = client.get(page_url(group)).content.decode()
    assert 'data-testid="check-again"' not in html
    assert 'data-testid="sync-to-clear"' in html
    client.post(check_url(group))
    working.refresh_from_db()
    assert working.status == Integration.Status.ERROR
    assert not AuditEntry.objects.filter(integration=working, action="check_passed").exists()


def test_check_again_is_for_the_groups_admins_only(client: Client, group, working):
    in_error(working, "unavailable")
    other_admin = group_admin(GroupFactory(slug="engineering"), username="bob")
    learner = group_learner(group, username="leo")
    for user in (other_admin, learner):
        client.force_login(user)
        assert client.post(check_url(group)).status_code == 404
    working.refresh_from_db()
    assert working.status == Integration.Status.ERROR
    assert not AuditEntry.objects.filter(integration=working).exists()


def test_check_again_needs_a_post_with_its_csrf_token(admin, group, working):
    in_error(working, "unavailable")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    assert strict.get(check_url(group)).status_code == 405
    assert strict.post(check_url(group)).status_code == 403
    working.refresh_from_db()
    assert working.status == Integration.Status.ERROR


# --------------------------------------------------------------------------- the admin's change


def _history(integration, actor, *, change: bool):
    """A success, then (maybe) alice's change of the pages fetched at once, then a failure."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import SyncRun

    t0 = timezone.now() - timedelta(hours=3)
    ok = SyncRun.objects.create(
        integration=integration, kind="content", status="succeeded", finished_at=t0
    )
    SyncRun.objects.filter(pk=ok.pk).update(created_at=t0 - timedelta(minutes=5))
    if change:
        entry = AuditEntry.objects.create(
            integration=integration,
            actor=actor,
            action="update",
            fields=["page_concurrency"],
        )
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=t0 + timedelta(hours=1))
    failed = SyncRun.objects.create(
        integration=integration, kind="content", status="failed", finished_at=timezone.now()
    )
    SyncRun.objects.filter(pk=failed.pk).update(created_at=t0 + timedelta(hours=2))
    return failed


@pytest.mark.parametrize("change", [True, False])
def test_the_banner_names_the_admins_change_before_blaming_udemy(
    client: Client, admin, group, working, change
):
    _history(working, admin, change=change)
    in_error(working, "unavailable")
    client.force_login(admin)
    html = banner(client.get(page_url(group)).content.decode())
    named = "This started after alice changed the pages fetched at once on" in html
    assert named is change
    assert ("nothing to change on your side" in html) is not change


@pytest.mark.parametrize("change", [True, False])
def test_the_alert_email_names_the_admins_change_before_blaming_udemy(
    admin, group, working, change
):
    from integrations.services.alerts.messages import integration_message

    failed = _history(working, admin, change=change)
    in_error(working, "unavailable")
    error = integration_message(working, "status", "error", None).advice
    assert ("This started after alice changed the pages fetched at once" in error) is change
    assert ("Nothing needs to change on your side" in error) is not change
    run_failed = integration_message(working, "content", "failed", failed).advice
    assert ("check that change first" in run_failed) is change


def test_a_change_after_the_failures_began_is_not_blamed(group, working):
    from integrations.selectors.recent_change import change_advice

    _history(working, None, change=False)
    AuditEntry.objects.create(integration=working, action="update", fields=["sync_tags"])
    assert change_advice(integration=working) == ""


@pytest.mark.parametrize("change", [True, False])
@pytest.mark.parametrize("kind", ["credentials", "unavailable", "bad_response"])
def test_the_alert_email_names_buttons_the_page_shows(
    client: Client, admin, group, working, kind, change
):
    from integrations.services.alerts.messages import integration_message

    _history(working, admin, change=change)
    in_error(working, kind)
    advice = integration_message(working, "status", "error", None).advice
    named = re.findall(r"“([^”]+)”", advice)
    assert named, advice
    client.force_login(admin)
    html = client.get(page_url(group)).content.decode()
    for name in named:
        assert re.search(rf"<button[^>]*>\s*{re.escape(name)}\s*</button>", html), name
