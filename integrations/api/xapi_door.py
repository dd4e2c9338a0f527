"""The door Udemy Business pushes xAPI statements through: an OAuth 2.0 token endpoint and
an xAPI Statements resource per integration.

- Token: django-oauth-toolkit's `TokenView`, client credentials grant (RFC 6749 §4.4), the
  client authenticated by HTTP Basic or by form fields (§2.3.1), scope `xapi:write`.
- Statements (xAPI 1.0.3, "Statements Resource"): POST one statement or an array (200, their
  ids), PUT one with `?statementId=` (204). `X-Experience-API-Version` is required and
  answered. A bearer token of this integration's credentials with `xapi:write` is required
  (RFC 6750: 401 without a valid one, 403 without the scope or for another integration).
  Statements are stored before the answer and applied by a task (`tasks.xapi`).

No session, no cookie: CSRF does not apply (a browser never sends a bearer token by itself).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import TokenView

from integrations.models import Integration
from integrations.providers.udemy.xapi import StatementError
from integrations.services.xapi_credentials import SCOPE, xapi_integration_for_application
from integrations.services.xapi_intake import (
    StatementConflict,
    xapi_rate_allows,
    xapi_statements_store,
)
from integrations.tasks.xapi import xapi_apply_soon

XAPI_VERSION = "1.0.3"
VERSION_HEADER = "X-Experience-API-Version"
MSG_NO_BEARER = "A bearer token is required (OAuth 2.0 client credentials, scope xapi:write)."
MSG_BAD_BEARER = "The token is unknown, expired or revoked."
INVALID_CHALLENGE = 'Bearer realm="xapi", error="invalid_token"'
SCOPE_CHALLENGE = f'Bearer realm="xapi", error="insufficient_scope", scope="{SCOPE}"'


class Refusal(Exception):
    def __init__(self, status: int, error: str, detail: str, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


def _answer(response: HttpResponse) -> HttpResponse:
    response[VERSION_HEADER] = XAPI_VERSION
    response["Cache-Control"] = "no-store"
    return response


def _refusal(exc: Refusal) -> HttpResponse:
    response = JsonResponse({"error": exc.error, "detail": exc.detail}, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return _answer(response)


def _bearer(request: HttpRequest, integration_id: int) -> int:
    """The OAuth application of the request's token, checked against the integration."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(
            401, "invalid_token", MSG_NO_BEARER, {"WWW-Authenticate": 'Bearer realm="xapi"'}
        )
    checksum = hashlib.sha256(token.strip().encode()).hexdigest()
    access = (
        get_access_token_model()
        .objects.filter(token_checksum=checksum)
        .only("expires", "scope", "application_id")
        .first()
    )
    if access is None or access.is_expired() or access.application_id is None:
        raise Refusal(401, "invalid_token", MSG_BAD_BEARER, {"WWW-Authenticate": INVALID_CHALLENGE})
    if not access.allow_scopes([SCOPE]):
        raise Refusal(403, "insufficient_scope", f"The token lacks the scope {SCOPE}.",
                      {"WWW-Authenticate": SCOPE_CHALLENGE})  # fmt: skip
    if xapi_integration_for_application(application_id=access.application_id) != integration_id:
        raise Refusal(403, "wrong_integration", "This token belongs to another integration.")
    return access.application_id


def _body(request: HttpRequest) -> Any:
    limit = settings.XAPI_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise Refusal(413, "too_large", f"The body is larger than {limit} bytes.")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise Refusal(413, "too_large", f"The body is larger than {limit} bytes.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Refusal(400, "invalid_json", "The body is not valid JSON.") from None


@csrf_exempt
def statements(request: HttpRequest, integration_id: int) -> HttpResponse:
    """xAPI 1.0.3 Statements resource of one integration (write only)."""
    try:
        if request.method not in ("POST", "PUT"):
            raise Refusal(405, "method_not_allowed", "Only POST and PUT are accepted here.",
                          {"Allow": "POST, PUT"})  # fmt: skip
        application_id = _bearer(request, integration_id)
        if not request.headers.get(VERSION_HEADER, "").startswith("1.0"):
            raise Refusal(400, "version", f"The {VERSION_HEADER} header (1.0.x) is required.")
        if not xapi_rate_allows(client_key=str(application_id)):
            raise Refusal(429, "rate_limited", "Too many requests: try again in a minute.",
                          {"Retry-After": "60"})  # fmt: skip
        given = request.GET.get("statementId")
        if request.method == "PUT" and not given:
            raise Refusal(400, "statement_id", "A PUT needs the statementId parameter.")
        body = _body(request)
        ids = _store(integration_id, body, given if request.method == "PUT" else None)
    except Refusal as exc:
        return _refusal(exc)
    transaction.on_commit(lambda: xapi_apply_soon(integration_id))
    if request.method == "PUT":
        return _answer(HttpResponse(status=204))
    return _answer(HttpResponse(orjson.dumps(ids), content_type="application/json"))


def _store(integration_id: int, body: Any, given: str | None) -> list[str]:
    integration = Integration.objects.get(pk=integration_id)  # the token's: it exists
    try:
        return xapi_statements_store(integration=integration, body=body, statement_id=given)
    except StatementError as exc:
        raise Refusal(400, "invalid_statement", str(exc)) from None
    except StatementConflict as exc:
        raise Refusal(409, "conflict", str(exc)) from None


app_name = "xapi"
urlpatterns = [
    path("oauth/token/", TokenView.as_view(), name="token"),
    path("integrations/<int:integration_id>/statements", statements, name="statements"),
]
