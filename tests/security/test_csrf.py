"""Promise (web hardening): every state-changing request of a signed-in browser needs a CSRF
token. Walks every route the resolver knows (admin site and API schema/docs aside), so a view
added later without CSRF protection (a stray `csrf_exempt`) fails here.

The control (the same request *with* a token is not refused with 403) proves the 403 comes from
the CSRF check and not from something else. The API's token authentication needs no CSRF token:
it is not sent by browsers on their own.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from rest_framework.authtoken.models import Token

from integrations.models import XapiStatement
from tests.factories import UserFactory

from .routes import Route, discover_routes
from .world import build_side, call, fills, url

pytestmark = pytest.mark.django_db

EXCLUDED = {"api:schema", "api:docs"}
API_UNSAFE = ("post", "put", "patch", "delete")


def browser_routes() -> list[Route]:
    return [
        r
        for r in discover_routes()
        if not r.is_admin_site and not r.is_bearer and r.name not in EXCLUDED
    ]


def bearer_routes() -> list[Route]:
    return [r for r in discover_routes() if r.is_bearer]


@pytest.fixture
def side(udemy_sandbox, no_internet, settings):
    settings.UDEMY_MAX_RETRIES = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_side("csrf", 5000, udemy_sandbox)


def browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def with_token(client: Client) -> Client:
    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    client.defaults["HTTP_X_CSRFTOKEN"] = token
    return client


@pytest.mark.parametrize("route", browser_routes(), ids=str)
def test_every_unsafe_request_without_a_csrf_token_is_refused(route: Route, side):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    path = url(route, next(fills(route, side)))
    for method in API_UNSAFE if route.is_api else ("post",):
        response = call(browser(superuser), method, path)
        assert response.status_code == 403, f"{method.upper()} {path}: {response.status_code}"
        assert b"CSRF" in response.content, f"{method.upper()} {path}: refused, but not for CSRF"
        controlled = call(with_token(browser(superuser)), method, path)
        assert controlled.status_code != 403, f"{method.upper()} {path} with a token: 403"


def test_the_api_with_a_token_needs_no_csrf_token(side):
    client = Client(enforce_csrf_checks=True)
    token, _ = Token.objects.get_or_create(user=side.admin)
    path = f"/api/v1/groups/{side.group.slug}/"
    response = client.patch(
        path,
        '{"name": "Renamed by token"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed by token"


@pytest.mark.parametrize("route", bearer_routes(), ids=str)
def test_a_bearer_door_ignores_the_browser_session(route: Route, side):
    """Exempt from CSRF because it never trusts a cookie: a signed-in superuser's session
    without a bearer token (or client credentials) is refused, and writes nothing."""
    superuser = UserFactory(is_superuser=True, is_staff=True)
    path = url(route, next(fills(route, side)))
    for method in ("post", "put"):
        response = call(browser(superuser), method, path)
        assert response.status_code in (400, 401, 405), f"{method.upper()} {path}"
    assert not XapiStatement.objects.exists()
