"""GET, PUT, PATCH /api/v1/groups/{slug}/integrations/udemy/ and activate / deactivate."""

from __future__ import annotations

import pytest

from integrations.models import AuditEntry, Integration, SyncRun
from tests.api_fixtures import SECRET
from tests.factories import IntegrationFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/groups/acme-academy/integrations/udemy/"
SETTINGS = {
    "client_id": "demo-client",
    "client_secret": "brand-new-secret-42",
    "organization_name": "demo",
    "organization_id": "4242",
}


def test_get_when_none_exists_is_a_clear_404(a_api, group_a):
    response = a_api.get(URL)
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Udemy is not set up for group 'acme-academy' yet: PUT its settings first."
    }


def test_get_never_returns_the_secret(a_api, integration_a):
    body = a_api.get(URL).json()  # the client scans the body for SECRET too
    assert "client_secret" not in body
    assert body == {
        "client_id": "demo-client",
        "client_secret_set": True,
        "organization_name": "demo",
        "organization_id": "4242",
        "api_base_url": "",
        "sync_tags": False,
        "sync_learning_paths": False,
        "page_concurrency": None,
        "status": "inactive",
        "status_message": "",
        "error_kind": "",
        "last_content_sync": None,
        "last_stats_sync": None,
        "health": {
            "content": {
                "last_run": None,
                "last_success_at": None,
                "next_run_at": None,  # inactive: nothing scheduled
                "stale": False,
                "cleanup_pending": 0,  # nothing awaits the admin's review
                "held_new": 0,
            },
            "stats": {
                "last_run": None,
                "last_success_at": None,
                "next_run_at": None,
                "stale": False,
                "cleanup_pending": 0,
                "held_new": 0,
            },
            "consecutive_failures": 0,
            "stale": False,
        },
    }


def test_put_creates_an_inactive_integration_and_audits_field_names(a_api, admin_a, group_a):
    response = a_api.put(URL, {**SETTINGS, "sync_tags": True}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "inactive"
    assert response.json()["sync_tags"] is True
    integration = Integration.objects.get(group=group_a)
    assert integration.client_secret == "brand-new-secret-42"
    assert integration.owner == admin_a
    entry = AuditEntry.objects.get(integration=integration)
    assert entry.actor == admin_a
    assert "client_secret" in entry.fields
    assert "brand-new-secret-42" not in repr(entry.__dict__)


def test_put_again_replaces_and_blank_secret_keeps_the_stored_one(a_api, integration_a):
    body = {**SETTINGS, "client_secret": "", "organization_name": "acme"}
    response = a_api.put(URL, body, format="json")
    assert response.status_code == 200
    integration_a.refresh_from_db()
    assert integration_a.client_secret == SECRET
    assert integration_a.organization_name == "acme"
    # Absent secret: kept too.
    body.pop("client_secret")
    assert a_api.put(URL, body, format="json").status_code == 200
    integration_a.refresh_from_db()
    assert integration_a.client_secret == SECRET


def test_put_resets_omitted_options_patch_keeps_them(a_api, integration_a):
    a_api.patch(URL, {"sync_tags": True, "sync_learning_paths": True}, format="json")
    integration_a.refresh_from_db()
    assert integration_a.sync_tags and integration_a.sync_learning_paths
    a_api.put(URL, {k: v for k, v in SETTINGS.items() if k != "client_secret"}, format="json")
    integration_a.refresh_from_db()
    assert not integration_a.sync_tags and not integration_a.sync_learning_paths


def test_page_concurrency_is_set_audited_and_reset_by_put(a_api, integration_a):
    response = a_api.patch(URL, {"page_concurrency": 6}, format="json")
    assert response.status_code == 200 and response.json()["page_concurrency"] == 6
    integration_a.refresh_from_db()
    assert integration_a.page_concurrency == 6
    assert ["page_concurrency"] in [
        e.fields for e in AuditEntry.objects.filter(integration=integration_a)
    ]
    a_api.put(URL, {k: v for k, v in SETTINGS.items() if k != "client_secret"}, format="json")
    integration_a.refresh_from_db()
    assert integration_a.page_concurrency is None  # omitted from a PUT: the server's default


@pytest.mark.parametrize("value", [0, 17, "4", 4.5, True])
def test_page_concurrency_out_of_range_or_not_an_integer_is_a_400(a_api, integration_a, value):
    response = a_api.patch(URL, {"page_concurrency": value}, format="json")
    assert response.status_code == 400
    assert "page_concurrency" in response.json()
    integration_a.refresh_from_db()
    assert integration_a.page_concurrency is None


def test_patch_changes_only_what_is_sent(a_api, integration_a):
    response = a_api.patch(URL, {"client_secret": "brand-new-secret-42"}, format="json")
    assert response.status_code == 200
    integration_a.refresh_from_db()
    assert integration_a.client_secret == "brand-new-secret-42"
    assert integration_a.organization_name == "demo"
    assert AuditEntry.objects.get(integration=integration_a).fields == ["client_secret"]


def test_patch_without_integration_is_404(a_api, group_a):
    assert a_api.patch(URL, {"sync_tags": True}, format="json").status_code == 404


def test_put_without_any_secret_stored_requires_one(a_api, group_a):
    body = {k: v for k, v in SETTINGS.items() if k != "client_secret"}
    response = a_api.put(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"client_secret": ["Enter the client secret: none is stored yet."]}
    assert not Integration.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"organization_id": "42/../../x"}, "organization_id", "is not valid"),
        ({"organization_name": "evil.com/x"}, "organization_name", "is not valid"),
        ({"api_base_url": "https://evil.example.com/api/"}, "api_base_url", "not in the allowed"),
        ({"api_base_url": "http://user@acme.udemy.com/"}, "api_base_url", "user info"),
        ({"api_base_url": "http://acme.udemy.com/api/"}, "api_base_url", "Plain http"),
        ({"api_base_url": "ftp://acme.udemy.com/"}, "api_base_url", "absolute http(s) URL"),
        ({"api_base_url": "http://169.254.169.254/"}, "api_base_url", "not in the allowed"),
        ({"client_id": ""}, "client_id", "may not be blank"),
        ({"organization_id": 4242}, "organization_id", "Not a valid string."),
        ({"sync_tags": 1}, "sync_tags", "Must be true or false."),
        ({"client_secret": "x\u0000y"}, "client_secret", "Null characters are not allowed."),
    ],
)
def test_validation_like_the_udemy_client(a_api, integration_a, change, field, message):
    response = a_api.put(URL, {**SETTINGS, **change}, format="json")
    assert response.status_code == 400
    assert message in response.json()[field][0]
    integration_a.refresh_from_db()
    assert integration_a.client_secret == SECRET


def test_patch_validates_the_merged_settings(a_api, integration_a):
    integration_a.api_base_url = "https://eu.udemy.com/api-2.0/organizations/4242/"
    integration_a.organization_name = "not a valid name"
    integration_a.save()
    # Removing the override makes the (stored) name count again: it is checked.
    response = a_api.patch(URL, {"api_base_url": ""}, format="json")
    assert response.status_code == 400
    assert "organization_name" in response.json()


def test_activate_with_a_wrong_secret_is_400_and_stays_inactive(a_api, group_a, udemy_sandbox):
    IntegrationFactory(
        group=group_a, client_secret="wrong-secret-value", api_base_url=udemy_sandbox.api_base_url
    )
    response = a_api.post(f"{URL}activate/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Udemy rejected the credentials (401): check client_id and client_secret."
    }
    assert Integration.objects.get(group=group_a).status == "inactive"


def test_activate_with_the_right_secret_is_200_active(a_api, group_a, udemy_sandbox):
    a_api.put(URL, {**SETTINGS, "client_secret": "demo-secret"}, format="json")
    a_api.patch(URL, {"api_base_url": udemy_sandbox.api_base_url}, format="json")
    response = a_api.post(f"{URL}activate/")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert Integration.objects.get(group=group_a).status == "active"


def test_activate_with_a_wrong_organization_says_so(a_api, group_a, make_udemy_sandbox):
    sandbox = make_udemy_sandbox(organization_id="9999")
    IntegrationFactory(
        group=group_a,
        client_secret="demo-secret",
        api_base_url=f"{sandbox.url}/api-2.0/organizations/4242/",
    )
    response = a_api.post(f"{URL}activate/")
    assert response.status_code == 400
    assert "check organization_name and organization_id" in response.json()["detail"]
    assert Integration.objects.get(group=group_a).status == "inactive"


def test_activate_without_integration_is_404(a_api, group_a):
    assert a_api.post(f"{URL}activate/").status_code == 404


def test_deactivate_skips_queued_runs(a_api, admin_a, active_integration_a):
    queued = SyncRunFactory(integration=active_integration_a)
    response = a_api.post(f"{URL}deactivate/")
    assert response.status_code == 200
    assert response.json()["status"] == "inactive"
    queued.refresh_from_db()
    assert queued.status == SyncRun.Status.SKIPPED
    entry = AuditEntry.objects.filter(integration=active_integration_a).first()
    assert (entry.action, entry.actor) == ("deactivate", admin_a)


def test_superuser_reaches_any_group_integration(su_api, integration_a):
    assert su_api.get(URL).status_code == 200
