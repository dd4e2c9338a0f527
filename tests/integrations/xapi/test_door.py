"""Promises of the xAPI door (OAuth 2.0 client credentials, RFC 6749 §4.4; xAPI 1.0.3
Statements resource): who may send, what is accepted, what is refused and how."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken

from integrations.models import XapiStatement
from integrations.services.xapi_credentials import xapi_credentials_issue, xapi_credentials_revoke

from .conftest import COMPLETED, post, statement, token_by_basic

pytestmark = pytest.mark.django_db


def test_a_token_by_http_basic_has_the_xapi_scope_and_a_short_life(door):
    response = token_by_basic(Client(), door.client_id, door.client_secret)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "xapi:write"
    assert body["expires_in"] <= 3600
    assert response["Cache-Control"] == "no-store"


def test_a_token_by_form_fields(door):
    response = Client().post(
        reverse("xapi:token"),
        {"grant_type": "client_credentials", "client_id": door.client_id,
         "client_secret": door.client_secret, "scope": "xapi:write"},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "xapi:write"


def test_a_wrong_secret_gets_401_and_no_token(door):
    response = token_by_basic(Client(), door.client_id, "not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_the_secret_is_hashed_at_rest(door):
    application = door.integration.xapi_client.application
    assert application.client_secret != door.client_secret
    assert application.client_secret.startswith(("pbkdf2_", "argon2", "bcrypt", "scrypt"))


def test_no_token_or_a_bad_one_is_401(door):
    client = Client()
    body = statement(door, door.course.external_id, progress=10)
    assert post(client, door, "", body).status_code == 401
    response = post(client, door, "nonsense", body)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not XapiStatement.objects.exists()


def test_a_token_without_the_scope_is_403(door):
    application = door.integration.xapi_client.application
    AccessToken.objects.create(application=application, token="read-only-token", scope="read",
                               expires=timezone.now() + timedelta(hours=1))  # fmt: skip
    response = post(Client(), door, "read-only-token", statement(door, "1", progress=1))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_an_expired_token_is_401(door):
    application = door.integration.xapi_client.application
    AccessToken.objects.create(application=application, token="old-token", scope="xapi:write",
                               expires=timezone.now() - timedelta(seconds=1))  # fmt: skip
    assert post(Client(), door, "old-token", statement(door, "1")).status_code == 401


def test_one_statement_is_stored_and_its_id_answered(door):
    body = statement(door, door.course.external_id, progress=25)
    response = post(Client(), door, door.token(), body)
    assert response.status_code == 200, response.content
    assert response.json() == [body["id"]]
    assert response["X-Experience-API-Version"] == "1.0.3"
    assert response["Cache-Control"] == "no-store"
    stored = XapiStatement.objects.get()
    assert str(stored.statement_id) == body["id"]
    assert stored.state == XapiStatement.State.PENDING
    assert stored.raw["object"]["id"] == door.course.external_id
    door.integration.xapi_client.refresh_from_db()
    assert door.integration.xapi_client.last_statement_at is not None


def test_an_array_is_stored_in_order_and_ids_are_made_for_statements_without(door):
    first = statement(door, door.course.external_id, progress=10)
    second = statement(door, door.course.external_id, progress=20)
    del second["id"]
    response = post(Client(), door, door.token(), [first, second])
    assert response.status_code == 200, response.content
    ids = response.json()
    assert ids[0] == first["id"]
    assert uuid.UUID(ids[1])
    assert XapiStatement.objects.count() == 2


def test_put_with_a_statement_id_answers_204(door):
    sid = str(uuid.uuid4())
    body = statement(door, door.course.external_id, progress=50)
    del body["id"]
    token = door.token()
    client = Client()
    response = client.put(
        f"{door.statements_url}?statementId={sid}", body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_EXPERIENCE_API_VERSION="1.0.3",
    )  # fmt: skip
    assert response.status_code == 204, response.content
    assert response["X-Experience-API-Version"] == "1.0.3"
    assert str(XapiStatement.objects.get().statement_id) == sid
    missing = client.put(door.statements_url, body, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}",
                         HTTP_X_EXPERIENCE_API_VERSION="1.0.3")  # fmt: skip
    assert missing.status_code == 400


def test_the_version_header_is_required(door):
    response = post(Client(), door, door.token(), statement(door, "1"), version=None)
    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.json()["detail"]
    assert response["X-Experience-API-Version"] == "1.0.3"


def test_the_same_statement_again_is_a_no_op_and_other_content_a_409(door):
    token, client = door.token(), Client()
    body = statement(door, door.course.external_id, progress=30)
    assert post(client, door, token, body).status_code == 200
    assert post(client, door, token, body).status_code == 200
    assert XapiStatement.objects.count() == 1
    changed = {**body, "result": {"extensions": {
        "https://w3id.org/xapi/cmi5/result/extensions/progress": 31}}}  # fmt: skip
    response = post(client, door, token, changed)
    assert response.status_code == 409
    assert XapiStatement.objects.get().raw["result"] == body["result"]


def _without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda b: "{not json", "not valid JSON"),
        (lambda b: _without(b, "actor"), "actor"),
        (lambda b: {**b, "actor": {"name": "no identifier"}}, "actor"),
        (lambda b: _without(b, "object"), "object"),
        (lambda b: {**b, "object": {"objectType": "Activity"}}, "object"),
        (lambda b: {**b, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}}, "verb"),
        (lambda b: _without(b, "verb"), "verb"),
        (lambda b: {**b, "id": "not-a-uuid"}, "UUID"),
        (lambda b: {**b, "timestamp": "yesterday"}, "timestamp"),
        (lambda b: {**b, "result": {"score": {"scaled": 7}}}, "scaled"),
        (lambda b: {**b, "result": {"completion": "yes"}}, "completion"),
        (lambda b: [], "no statement"),
        (lambda b: [b, {**b, "verb": {"id": COMPLETED}}], "Two different statements"),
        (lambda b: 42, "JSON object"),
    ],
    ids=["json", "no-actor", "actor-without-ifi", "no-object", "object-without-id",
         "unknown-verb", "no-verb", "bad-id", "bad-timestamp", "scaled-out-of-range",
         "completion-not-bool", "empty-array", "duplicate-ids", "not-an-object"],
)  # fmt: skip
def test_each_invalid_shape_is_a_400_with_a_clear_message(door, make, words):
    body = make(statement(door, door.course.external_id, progress=10))
    response = post(Client(), door, door.token(), body)
    assert response.status_code == 400, response.content
    assert words in response.json()["detail"]
    assert not XapiStatement.objects.exists()  # a batch is all or nothing


def test_a_body_over_the_limit_is_refused(door, settings):
    settings.XAPI_MAX_BODY_BYTES = 2000
    body = [statement(door, door.course.external_id, progress=i) for i in range(30)]
    assert post(Client(), door, door.token(), body).status_code == 413
    assert not XapiStatement.objects.exists()


def test_requests_per_client_are_bounded(door, settings):
    settings.XAPI_RATE_PER_MINUTE = 3
    token, client = door.token(), Client()
    codes = [post(client, door, token, statement(door, "1")).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_the_bound_holds_across_a_minute_boundary(door, settings):
    """A burst straddling the turn of a minute is still one minute's worth (a fixed window
    would start afresh at the turn and let twice the rate through)."""
    settings.XAPI_RATE_PER_MINUTE = 3
    token, client = door.token(), Client()
    turn = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=2)
    codes = []
    for at in (-3, -2, -1, 1, 2, 125):
        with time_machine.travel(turn + timedelta(seconds=at), tick=False):
            codes.append(post(client, door, token, statement(door, "1")).status_code)
    assert codes == [200, 200, 200, 429, 429, 200]  # two minutes on, the sender may go on


def test_get_is_not_allowed(door):
    response = Client().get(door.statements_url, HTTP_AUTHORIZATION=f"Bearer {door.token()}")
    assert response.status_code == 405


def test_a_token_of_integration_a_on_the_endpoint_of_b_is_403(door, other_door):
    response = post(Client(), other_door, door.token(), statement(other_door, "1"))
    assert response.status_code == 403
    assert response.json()["error"] == "wrong_integration"
    assert not XapiStatement.objects.exists()


def test_rotation_and_revocation_invalidate_tokens_at_once(door):
    client = Client()
    old_token = door.token()
    assert post(client, door, old_token, statement(door, "1")).status_code == 200
    issued = xapi_credentials_issue(integration=door.integration, actor=door.admin)
    assert post(client, door, old_token, statement(door, "1")).status_code == 401
    assert token_by_basic(client, door.client_id, door.client_secret).status_code == 401
    new_token = token_by_basic(client, issued.client_id, issued.client_secret).json()
    assert post(client, door, new_token["access_token"], statement(door, "1")).status_code == 200
    assert xapi_credentials_revoke(integration=door.integration, actor=door.admin)
    assert post(client, door, new_token["access_token"], statement(door, "1")).status_code == 401
    assert token_by_basic(client, issued.client_id, issued.client_secret).status_code == 401
