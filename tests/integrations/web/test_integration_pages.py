"""Settings → Integrations → Udemy: the form, SETUP / Save / DEACTIVATE and the sync buttons."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.models import Course
from integrations.core.lease import acquire, execution_holder
from integrations.models import AuditEntry, Integration, SyncLease, SyncRun
from tests.console_fixtures import SECRET
from tests.factories import CourseFactory, IntegrationFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def provider_url(group) -> str:
    return reverse("integrations:provider", args=[group.slug, "udemy"])


def form_data(sandbox, action: str = "setup", **overrides) -> dict:
    data = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "organization_name": sandbox.organization_name,
        "organization_id": sandbox.organization_id,
        "api_base_url": sandbox.api_base_url,
        "action": action,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --------------------------------------------------------------------------- the list


def test_list_shows_state_last_sync_and_links_to_the_provider_page(admin_client, group):
    integration = IntegrationFactory(group=group, status=Integration.Status.ERROR)
    SyncRunFactory(integration=integration, status=SyncRun.Status.FAILED)
    html = admin_client.get(reverse("integrations:settings", args=[group.slug])).content.decode()
    assert "Udemy Business" in html
    assert "Error" in html
    assert "Last sync" in html and "Failed" in html
    assert provider_url(group) in html


def test_list_says_inactive_before_any_setup(admin_client, group):
    html = admin_client.get(reverse("integrations:settings", args=[group.slug])).content.decode()
    assert "Inactive" in html
    assert "Never synchronized" in html


# --------------------------------------------------------------------------- the form


def test_form_of_a_new_integration_offers_setup(admin_client, group):
    response = admin_client.get(provider_url(group))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "client_id",
        "client_secret",
        "organization_name",
        "organization_id",
        "Enable tags synchronization",
        "Enable learning paths synchronization",
        "SETUP INTEGRATION",
        "Save",
    ):
        assert text in html
    assert "DEACTIVATE" not in html
    assert 'type="password"' in html


def test_form_is_filled_from_the_integration_but_never_with_the_secret(
    admin_client, group, integration
):
    html = admin_client.get(provider_url(group)).content.decode()
    assert 'value="demo-client"' in html
    assert SECRET not in html
    assert "Leave blank to keep it" in html
    assert "DEACTIVATE" in html
    assert "Sync content now" in html and "Sync statistics now" in html


@pytest.mark.parametrize(
    "seed_sentence",
    [
        # Step 1: Get your API credentials in Udemy Business
        "enable the API in your Udemy Business platform",
        "How to enable and find your API credentials in Udemy Business",
        # Synchronize Udemy categories as tags
        "Tags that were previously created won't be deleted",
        # Synchronize Udemy public learning paths
        "You can only synchronize public Udemy learning paths through the Udemy API",
        # Statistics synchronization for Udemy courses
        "users must use the same email address on both Udemy and",
        "Statistics for Udemy learning paths are not available",
        # Step 2: the target group
        "If you choose the platform group, all users in public groups can see the content",
        "You may want to create a private group for this synchronization",
    ],
)
def test_the_form_says_what_360learning_says_next_to_the_fields(admin_client, group, seed_sentence):
    """360Learning's "Synchronize Udemy content with 360Learning": its guidance is on the form."""
    html = unescape(admin_client.get(provider_url(group)).content.decode())
    assert seed_sentence.lower() in " ".join(html.split()).lower()


def test_the_tags_and_paths_guidance_sits_with_their_checkboxes(admin_client, group):
    form = admin_client.get(provider_url(group)).context["form"]
    assert "previously created" in form["sync_tags"].help_text
    assert "public Udemy learning paths" in form["sync_learning_paths"].help_text
    assert "Udemy Business" in form["client_id"].help_text


def test_deactivate_sits_bottom_right_with_setup_integration(admin_client, group, integration):
    """360Learning: "You can deactivate the integration by clicking DEACTIVATE on the bottom
    right." — in the form's action row (right-aligned), last, after SETUP INTEGRATION."""
    html = admin_client.get(provider_url(group)).content.decode()
    start = html.index('data-testid="form-actions"')
    row = html[html.rindex("<div", 0, start) : html.index("</div>", start)]
    assert "justify-content-end" in row.split(">", 1)[0]
    assert row.index("Save") < row.index("DEACTIVATE")
    # Set up: one button stores (Save, checking changed credentials); no second SETUP.
    assert "SETUP INTEGRATION" not in row
    actions = row
    assert "me-auto" not in actions


def test_setup_with_a_wrong_secret_shows_the_client_message_and_stores_nothing(
    admin_client, group, udemy_sandbox
):
    wrong = "not-the-right-secret-42"
    response = admin_client.post(provider_url(group), form_data(udemy_sandbox, client_secret=wrong))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Udemy rejected the credentials (401)" in html
    assert wrong not in html
    assert 'value="' + udemy_sandbox.client_id + '"' in html  # the typed values are kept
    # A first SETUP that Udemy refuses stores nothing at all (no half-configured integration).
    assert not Integration.objects.filter(group=group).exists()


def test_setup_with_the_right_secret_activates(admin_client, group, admin_user, udemy_sandbox):
    response = admin_client.post(provider_url(group), form_data(udemy_sandbox))
    assert response.status_code == 302
    assert response.url == provider_url(group)
    integration = Integration.objects.get(group=group)
    assert integration.status == Integration.Status.ACTIVE
    assert integration.client_secret == udemy_sandbox.client_secret
    assert integration.owner == admin_user
    assert "The integration is active." in messages_of(response)
    actions = set(
        AuditEntry.objects.filter(integration=integration).values_list("action", flat=True)
    )
    assert {"update", "activate"} <= actions


def test_setup_after_a_failure_with_the_right_secret_activates(admin_client, group, udemy_sandbox):
    admin_client.post(provider_url(group), form_data(udemy_sandbox, client_secret="wrong"))
    admin_client.post(provider_url(group), form_data(udemy_sandbox))
    assert Integration.objects.get(group=group).status == Integration.Status.ACTIVE


def test_setup_with_a_blank_secret_keeps_the_stored_one(admin_client, group, udemy_sandbox):
    IntegrationFactory(group=group, client_secret=udemy_sandbox.client_secret)
    response = admin_client.post(provider_url(group), form_data(udemy_sandbox, client_secret=""))
    assert response.status_code == 302
    integration = Integration.objects.get(group=group)
    assert integration.client_secret == udemy_sandbox.client_secret
    assert integration.status == Integration.Status.ACTIVE


def test_setup_without_any_secret_asks_for_one(admin_client, group, udemy_sandbox):
    response = admin_client.post(provider_url(group), form_data(udemy_sandbox, client_secret=""))
    assert response.status_code == 400
    assert "Enter the client secret: none is stored yet." in response.content.decode()
    assert not Integration.objects.filter(group=group).exists()  # the form refused it first


def test_save_toggles_without_reentering_the_secret(admin_client, group, integration):
    data = {
        "client_id": integration.client_id,
        "client_secret": "",
        "organization_name": integration.organization_name,
        "organization_id": integration.organization_id,
        "api_base_url": "",
        "sync_tags": "on",
        "sync_learning_paths": "on",
        "action": "save",
    }
    response = admin_client.post(provider_url(group), data)
    assert response.status_code == 302
    assert "Settings saved." in messages_of(response)
    integration.refresh_from_db()
    assert integration.sync_tags and integration.sync_learning_paths
    assert integration.client_secret == SECRET
    assert integration.status == Integration.Status.ACTIVE
    entry = AuditEntry.objects.filter(integration=integration, action="update").first()
    assert entry.fields == ["sync_learning_paths", "sync_tags"]


def test_clearing_a_toggle_saves_it(admin_client, group, integration):
    integration.sync_tags = True
    integration.save()
    data = {
        "client_id": integration.client_id,
        "organization_name": integration.organization_name,
        "organization_id": integration.organization_id,
        "action": "save",
    }
    admin_client.post(provider_url(group), data)
    integration.refresh_from_db()
    assert not integration.sync_tags


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("api_base_url", "https://evil.example.com/api/", "not in the allowed list"),
        ("api_base_url", "http://user@127.0.0.1:9/x/", "must not contain user info"),
        ("api_base_url", "ftp://demo.udemy.com/", "absolute http(s) URL"),
        ("organization_name", "acme.evil.com/x", "is not valid"),
        ("organization_id", "42/../../x", "is not valid"),
        ("client_id", "", "This field is required."),
        ("page_concurrency", "17", "less than or equal to 16"),
        ("page_concurrency", "0", "greater than or equal to 1"),
        ("page_concurrency", "four", "Enter a whole number."),
    ],
)
def test_invalid_input_re_renders_with_messages_and_saves_nothing(
    admin_client, group, udemy_sandbox, field, value, message
):
    response = admin_client.post(provider_url(group), form_data(udemy_sandbox, **{field: value}))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Please correct the errors below." in html
    assert udemy_sandbox.client_secret not in html
    assert not Integration.objects.filter(group=group).exists()


def test_a_refused_setting_reads_in_the_admins_words_and_language(
    admin_client, group, udemy_sandbox
):
    """The host refusal names what the server allows, not its setting's name, and follows the
    console's language (the API keeps English: tests/security/test_ssrf.py)."""
    data = form_data(udemy_sandbox, api_base_url="https://evil.example.com/api/")
    english = admin_client.post(provider_url(group), data).content.decode()
    assert "not in the allowed list" in english and "UDEMY_ALLOWED_API_HOSTS" not in english
    assert "the Udemy addresses this site may call" in english
    french = admin_client.post(provider_url(group), data, HTTP_ACCEPT_LANGUAGE="fr")
    page = unescape(french.content.decode())
    assert "n’est pas dans la liste autorisée" in page and "UDEMY_ALLOWED_API_HOSTS" not in page


def test_allowed_udemy_host_override_is_accepted(admin_client, group, udemy_sandbox):
    data = form_data(udemy_sandbox, api_base_url="https://demo.udemy.com/api-2.0/x/", action="save")
    assert admin_client.post(provider_url(group), data).status_code == 302
    assert Integration.objects.get(group=group).api_base_url == "https://demo.udemy.com/api-2.0/x/"


def test_pages_fetched_at_once_is_saved_and_blank_means_the_default(
    admin_client, group, udemy_sandbox
):
    data = form_data(udemy_sandbox, page_concurrency="8", action="save")
    assert admin_client.post(provider_url(group), data).status_code == 302
    integration = Integration.objects.get(group=group)
    assert integration.page_concurrency == 8
    html = admin_client.get(provider_url(group)).content.decode()
    assert 'name="page_concurrency"' in html and 'value="8"' in html
    assert "the pages fetched at once" in html  # named in the audit trail
    data = form_data(udemy_sandbox, page_concurrency="", client_secret="", action="save")
    assert admin_client.post(provider_url(group), data).status_code == 302
    integration.refresh_from_db()
    assert integration.page_concurrency is None


def test_unknown_provider_is_404(admin_client, group):
    url = reverse("integrations:provider", args=[group.slug, "coursera"])
    assert admin_client.get(url).status_code == 404


def test_audit_trail_shows_who_when_action_and_fields(admin_client, group, integration, admin_user):
    AuditEntry.objects.create(
        integration=integration, actor=admin_user, action="update", fields=["client_secret"]
    )
    html = admin_client.get(provider_url(group)).content.decode()
    assert 'data-testid="audit-trail"' in html
    assert "alice" in html and "Changed the client secret" in html
    assert SECRET not in html


# --------------------------------------------------------------------------- DEACTIVATE


def test_deactivate_asks_for_confirmation_first(admin_client, group, integration):
    url = reverse("integrations:deactivate", args=[group.slug, "udemy"])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Yes, DEACTIVATE" in response.content.decode()
    integration.refresh_from_db()
    assert integration.status == Integration.Status.ACTIVE


def test_deactivate_keeps_the_courses(admin_client, group, integration):
    CourseFactory.create_batch(3, integration=integration)
    queued = SyncRunFactory(integration=integration, status=SyncRun.Status.QUEUED)
    url = reverse("integrations:deactivate", args=[group.slug, "udemy"])
    response = admin_client.post(url)
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.status == Integration.Status.INACTIVE
    assert Course.objects.filter(integration=integration, status="active").count() == 3
    queued.refresh_from_db()
    assert queued.status == SyncRun.Status.SKIPPED
    assert AuditEntry.objects.filter(integration=integration, action="deactivate").exists()


def test_deactivate_of_a_missing_integration_is_404(admin_client, group):
    url = reverse("integrations:deactivate", args=[group.slug, "udemy"])
    assert admin_client.post(url).status_code == 404


# --------------------------------------------------------------------------- sync buttons


def sync_url(group, kind: str) -> str:
    return reverse("integrations:sync", args=[group.slug, "udemy", kind])


@pytest.mark.parametrize("kind", ["content", "stats"])
def test_sync_now_queues_a_manual_run_and_shows_it(
    admin_client, group, integration, admin_user, kind, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(sync_url(group, kind))
    run = SyncRun.objects.get(integration=integration)
    assert (run.kind, run.trigger, run.triggered_by) == (kind, "manual", admin_user)
    assert run.status == SyncRun.Status.QUEUED
    assert len(callbacks) == 1  # the task is enqueued once the transaction commits
    assert response.url == reverse("integrations:run", args=[group.slug, run.pk])
    assert AuditEntry.objects.filter(integration=integration, action=f"sync_{kind}").exists()


def test_sync_now_while_running_says_already_running(admin_client, group, integration):
    running = SyncRunFactory(integration=integration, status=SyncRun.Status.RUNNING)
    # Its worker is alive: it holds the lease (a run nobody holds is closed as stuck).
    assert acquire(
        SyncLease, integration=integration, kind="content", holder=execution_holder(running.pk)
    )
    response = admin_client.post(sync_url(group, "content"))
    assert "A content sync is already running." in messages_of(response)
    assert response.url == reverse("integrations:run", args=[group.slug, running.pk])
    skipped = SyncRun.objects.exclude(pk=running.pk).get()
    assert skipped.status == SyncRun.Status.SKIPPED


def test_sync_now_of_an_inactive_integration_is_refused(admin_client, group):
    IntegrationFactory(group=group, status=Integration.Status.INACTIVE)
    response = admin_client.post(sync_url(group, "content"))
    assert response.status_code == 302
    assert "Set the integration up before synchronizing." in messages_of(response)
    assert not SyncRun.objects.exists()


def test_sync_now_needs_post_and_a_known_kind(admin_client, group, integration):
    assert admin_client.get(sync_url(group, "content")).status_code == 405
    assert admin_client.post(sync_url(group, "everything")).status_code == 404
    assert not SyncRun.objects.exists()


def test_state_changes_need_a_csrf_token(group, admin_user, integration):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    for url in (
        provider_url(group),
        sync_url(group, "content"),
        reverse("integrations:deactivate", args=[group.slug, "udemy"]),
    ):
        assert client.post(url, {"action": "save"}).status_code == 403
    integration.refresh_from_db()
    assert integration.status == Integration.Status.ACTIVE


def test_an_active_integration_never_synced_says_so(admin_client, group, integration):
    html = admin_client.get(provider_url(group)).content.decode()
    assert "Active · first sync pending" in html
    assert "<details" in html.split('data-testid="integration-guidance"')[0][-200:]
    assert 'data-testid="integration-guidance" open' not in html  # collapsed once set up


def test_an_inactive_integration_offers_setup_and_opens_the_guidance(
    admin_client, group, integration
):
    integration.status = integration.Status.INACTIVE
    integration.save()
    html = admin_client.get(provider_url(group)).content.decode()
    assert "SETUP INTEGRATION" in html
    assert 'data-testid="integration-guidance" open' in html


def test_turning_learning_paths_off_says_what_it_does_where_the_admin_decides(admin_client, group):
    """360Learning: turning learning paths synchronization off archives the synced paths; the
    toggle says so before the admin turns it off."""
    form = admin_client.get(provider_url(group)).context["form"]
    assert "archives every synced learning path" in form["sync_learning_paths"].help_text


def test_the_guidance_disclosure_names_itself(admin_client, group, integration):
    """The <summary> is the disclosure's first child (else the browser shows a bare "Details")."""
    html = admin_client.get(provider_url(group)).content.decode()
    start = html.index('data-testid="integration-guidance"')
    after_tag = html[html.index(">", start) + 1 :].lstrip()
    assert after_tag.startswith("<summary")
    assert "How this integration works" in after_tag[:300]
