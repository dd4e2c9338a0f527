"""Authentication, cross-group isolation, error shape, schema and docs pages."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integrations.models import SyncRun
from tests.api_fixtures import ScanningClient
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db

A = "/api/v1/groups/acme-academy"
UDEMY = f"{A}/integrations/udemy/"

# Every operation of the API, with a body that would be valid for it.
OPERATIONS = [
    ("get", "/api/v1/groups/", None),
    ("post", "/api/v1/groups/", {"slug": "x", "name": "X", "parent": "acme-academy"}),
    ("get", f"{A}/", None),
    ("patch", f"{A}/", {"name": "Renamed"}),
    ("get", "/api/v1/learners/", None),
    ("post", "/api/v1/learners/", {"email": "n@example.com", "groups": ["acme-academy"]}),
    ("get", UDEMY, None),
    ("put", UDEMY, {"client_id": "c", "organization_name": "o", "organization_id": "1"}),
    ("patch", UDEMY, {"sync_tags": True}),
    ("post", f"{UDEMY}activate/", None),
    ("post", f"{UDEMY}deactivate/", None),
    ("post", f"{UDEMY}sync/", {"kind": "content"}),
    ("get", f"{A}/courses/", None),
    ("get", f"{A}/stats/", None),
    ("get", "/api/v1/sync-runs/", None),
    ("get", "/api/v1/sync-runs/{run}/", None),
    ("get", "/api/v1/sync-runs/{run}/errors/", None),
]
# Operations on one group's objects: another group's admin and a learner must get 404.
GROUP_OBJECT_OPERATIONS = [op for op in OPERATIONS if "acme-academy" in op[1] or "{run}" in op[1]]


def _call(client: APIClient, method: str, url: str, body, run_id: int = 0):
    return getattr(client, method)(url.format(run=run_id), body, format="json")


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_every_operation_requires_credentials(api, group_a, method, url, body):
    response = _call(api, method, url, body, run_id=1)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401_with_a_clear_message(api, group_a):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/groups/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


@pytest.mark.parametrize(("method", "url", "body"), GROUP_OBJECT_OPERATIONS)
def test_another_groups_admin_gets_404_everywhere(
    b_api, learner_api, integration_a, method, url, body
):
    run = SyncRunFactory(integration=integration_a)
    for client in (b_api, learner_api):
        response = _call(client, method, url, body, run_id=run.pk)
        assert response.status_code == 404, (method, url, response.content)
        assert response["Content-Type"] == "application/json"
        assert "administer" in response.json()["detail"]
    integration_a.refresh_from_db()
    assert integration_a.status == "inactive"
    assert SyncRun.objects.count() == 1


def test_drf_create_token_command_gives_a_working_token(admin_a, group_a, capsys):
    call_command("drf_create_token", admin_a.username)
    key = Token.objects.get(user=admin_a).key
    assert key in capsys.readouterr().out
    client = ScanningClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/groups/")
    assert response.status_code == 200
    assert [g["slug"] for g in response.json()["results"]] == ["acme-academy"]


def test_session_auth_works_and_enforces_csrf(admin_a, group_a):
    client = ScanningClient(enforce_csrf_checks=True)
    client.force_login(admin_a)
    assert client.get(f"{A}/").json()["slug"] == "acme-academy"
    response = client.patch(f"{A}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_unknown_api_url_is_a_json_404_with_a_hint(su_api):
    response = su_api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No API endpoint at /api/v1/nothing-here/."}
    response = su_api.get("/api/v1/groups")
    assert response.status_code == 404
    assert "Did you mean /api/v1/groups/" in response.json()["detail"]


def test_method_not_allowed_is_json_with_allow_header(su_api, group_a):
    response = su_api.delete(f"{A}/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert "PATCH" in response["Allow"]


def test_malformed_json_is_a_400_with_a_message(su_api, group_a):
    response = su_api.patch(f"{A}/", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_a_form_body_is_refused_with_415(su_api, group_a):
    response = su_api.patch(f"{A}/", {"name": "x"}, format="multipart")
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_options_never_fails(su_api, integration_a, method, url, body):
    run = SyncRunFactory(integration=integration_a)
    response = su_api.options(url.format(run=run.pk))
    assert response.status_code == 200


def test_schema_is_openapi_3_and_public(api):
    response = api.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/groups/{slug}/integrations/udemy/sync/" in schema["paths"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    assert "client_secret" not in schema["components"]["schemas"]["Integration"].get("required", [])


def test_docs_page_lists_endpoints_without_any_cdn(api):
    response = api.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/groups/{slug}/stats/" in html
    assert "Authorization: Token" in html
    # Only local assets: no script or stylesheet from another host.
    assert "cdn." not in html
    assert 'src="http' not in html
    assert 'href="http' not in html


def test_unknown_url_posted_to_is_a_json_404_not_a_csrf_page(admin_a):
    client = ScanningClient(enforce_csrf_checks=True)
    client.force_login(admin_a)
    response = client.post("/api/v1/groups/%C2%96/", {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_an_unacceptable_accept_header_is_a_json_406(su_api, group_a):
    response = su_api.get(f"{A}/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["detail"].startswith("Could not satisfy the request Accept header")
