"""Promises of the xAPI settings API: group admins generate, rotate and revoke the credentials
(the secret is in the creating answer only), read the status; others get 404; each is audited."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integrations.models import AuditEntry, XapiStatement
from integrations.services.xapi_apply import xapi_apply_pending
from integrations.services.xapi_intake import xapi_statements_store
from tests.factories import IntegrationFactory, group_admin

from .conftest import make_door, statement, token_by_basic

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def urls(slug: str) -> tuple[str, str]:
    base = f"/api/v1/groups/{slug}/integrations/udemy/xapi/"
    return base, f"{base}credentials/"


def test_generate_rotate_revoke_and_status(door):
    status_url, credentials_url = urls(door.integration.group.slug)
    client = api_as(door.admin)
    created = client.post(credentials_url)
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == {"client_id", "client_secret", "token_url", "statements_url", "scope"}
    assert body["scope"] == "xapi:write"
    assert body["token_url"].endswith("/xapi/oauth/token/")
    assert body["statements_url"].endswith(f"/xapi/integrations/{door.integration.pk}/statements")
    assert token_by_basic(Client(), body["client_id"], body["client_secret"]).status_code == 200
    status = client.get(status_url).json()
    assert status["enabled"] is True
    assert status["client_id"] == body["client_id"]
    assert body["client_secret"] not in str(status)
    rotated = client.post(credentials_url).json()
    assert rotated["client_id"] != body["client_id"]
    assert token_by_basic(Client(), body["client_id"], body["client_secret"]).status_code == 401
    assert client.delete(credentials_url).status_code == 204
    assert client.get(status_url).json()["enabled"] is False
    assert client.delete(credentials_url).status_code == 404
    actions = list(AuditEntry.objects.filter(integration=door.integration)
                   .order_by("pk").values_list("action", flat=True))  # fmt: skip
    assert actions[-3:] == ["xapi_rotate", "xapi_rotate", "xapi_revoke"]


def test_status_counts_and_last_statement(door):
    xapi_statements_store(integration=door.integration, body=[
        statement(door, door.course.external_id, progress=10),
        statement("stranger@example.com", door.course.external_id, progress=10),
    ])  # fmt: skip
    xapi_apply_pending(integration_id=door.integration.pk)
    xapi_statements_store(integration=door.integration, body=statement(door, "1"))
    status_url, _ = urls(door.integration.group.slug)
    body = api_as(door.admin).get(status_url).json()
    assert body["counts"] == {"accepted": 1, "pending": 1, "rejected": 0, "waiting": 1}
    assert body["last_statement_at"] is not None
    assert XapiStatement.objects.count() == 3


def test_another_groups_admin_gets_404(door):
    stranger = make_door("gamma").admin
    status_url, credentials_url = urls(door.integration.group.slug)
    client = api_as(stranger)
    assert client.get(status_url).status_code == 404
    assert client.post(credentials_url).status_code == 404
    assert client.delete(credentials_url).status_code == 404
    assert door.integration.xapi_client.application is not None


def test_a_group_without_udemy_gets_404(db):
    integration = IntegrationFactory()
    admin = group_admin(integration.group)
    integration.delete()
    _, credentials_url = urls(admin.learner.memberships.get().group.slug)
    assert api_as(admin).post(credentials_url).status_code == 404
