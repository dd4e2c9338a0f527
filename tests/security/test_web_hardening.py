"""Promise (Secrets and access): "`manage.py check --deploy` passes with production settings;
logins are throttled" — and the response headers, CSP and session rules that go with it.

`check --deploy` itself is run by tests/lmsbridge/test_foundation.py. Header settings that only
production turns on (HSTS, secure cookies, SSL redirect) are read by SecurityMiddleware when it is
built, so they are checked in a subprocess started with DJANGO_ENV=production.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from axes.utils import reset as axes_reset
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncRun
from tests.factories import (
    DEFAULT_PASSWORD,
    AttemptFactory,
    CourseFactory,
    SyncRunFactory,
    UserFactory,
)
from tests.lmsbridge.test_foundation import ROOT, production_env

pytestmark = pytest.mark.django_db


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


# --------------------------------------------------------------------------- headers


def test_security_headers_are_on_every_page(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = dict(
        part.strip().split("=", 1) for part in response["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert permissions[feature] == "()", feature
    csp = csp_of(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["form-action"][0] == "'self'"
    assert "https:" in csp["img-src"]  # course images come from Udemy's CDN
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "https:", "data:"):
        assert unsafe not in csp["script-src"], unsafe


def test_the_csp_lets_start_redirect_to_udemy_and_nowhere_else():
    """A form POST that redirects is checked against form-action: START lands on Udemy."""
    from lmsbridge.settings.security import _launch_sources

    assert _launch_sources(["*.udemy.com", "127.0.0.1", "localhost", "udemy-*.example.com"]) == [
        "https://*.udemy.com",
        "http://127.0.0.1:*",
        "http://localhost:*",
    ]


@pytest.fixture
def console_pages(client):
    """The pages of a busy group, as its superuser sees them (charts, descriptions, forms)."""
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    course = CourseFactory(description="<p>Plain <strong>HTML</strong></p>")
    integration = course.integration
    now = timezone.now()
    run = SyncRunFactory(
        integration=integration,
        status=SyncRun.Status.SUCCEEDED,
        started_at=now - timedelta(seconds=5),
        finished_at=now,
        fetched=10,
    )
    AttemptFactory(course=course, first_activity=now, last_activity=now, completed_at=now)
    slug = integration.group.slug
    return [
        reverse("login"),
        reverse("integrations:settings", args=[slug]),
        reverse("integrations:provider", args=[slug, "udemy"]),
        reverse("integrations:history", args=[slug]),
        reverse("integrations:run", args=[slug, run.pk]),
        reverse("catalog:group_catalog", args=[slug]),
        reverse("catalog:course_dashboard", args=[slug, course.pk]),
        reverse("catalog:group_dashboard", args=[slug]),
        reverse("catalog:learner_catalog"),
        reverse("api:docs"),
    ]


def test_private_answers_are_never_stored(client, console_pages):
    """A signed-in user's pages and every API answer carry `Cache-Control: no-store` (a shared
    computer's back button or a proxy must not keep them)."""
    for url in console_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    api = client.get("/api/v1/groups/")
    assert "no-store" in api["Cache-Control"]
    client.logout()
    assert "no-store" in client.get("/api/v1/groups/")["Cache-Control"]  # 403 too


def test_pages_work_under_the_csp_no_inline_script_or_handler(client, console_pages):
    """script-src has no 'unsafe-inline': a page's scripts must be files of this site (or carry
    the response's nonce), and no element may carry an on* event handler."""
    static = "/" + settings.STATIC_URL.lstrip("/")
    for path in console_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        for tag in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE):
            src = re.search(r'\bsrc="([^"]+)"', tag)
            has_nonce = nonce and f'nonce="{nonce.group(1)}"' in tag
            assert (src and src.group(1).startswith(static)) or has_nonce, (
                f"{path}: {tag} would be blocked by the CSP"
            )
        handlers = re.findall(r"<[^>]*\son[a-z]+\s*=", html, re.IGNORECASE)
        assert not handlers, f"{path}: inline event handlers {handlers[:3]}"


PRODUCTION_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
from django.contrib.auth import get_user_model
from django.test import Client
call_command("migrate", verbosity=0)
get_user_model().objects.create_user("ops", password="a-long-Password-42")
client = Client(HTTP_HOST="lms.example.com")
plain = client.get("/health/")
secure = client.get("/health/", secure=True)
login = client.post(
    "/accounts/login/", {"username": "ops", "password": "a-long-Password-42"}, secure=True
)
cookies = {
    name: {key: str(morsel[key]) for key in ("secure", "httponly", "samesite", "max-age")}
    for name, morsel in login.cookies.items()
}
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "headers": dict(secure.headers),
    "login": login.status_code,
    "cookies": cookies,
}))
"""


def test_production_sends_hsts_redirects_http_and_secures_cookies(tmp_path):
    env = production_env(DATABASE_URL="sqlite://:memory:", LMSBRIDGE_VAR_DIR=str(tmp_path))
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://lms.example.com/health/"]
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert seen["login"] == 302
    session = seen["cookies"][settings.SESSION_COOKIE_NAME]
    csrf = seen["cookies"][settings.CSRF_COOKIE_NAME]
    assert session["secure"] == "True" and session["httponly"] == "True"
    assert session["samesite"] == "Lax"
    assert session["max-age"] == ""  # ends with the browser (SESSION_EXPIRE_AT_BROWSER_CLOSE)
    assert csrf["secure"] == "True"


# --------------------------------------------------------------------------- login throttling


@pytest.fixture
def person():
    axes_reset()
    yield UserFactory(username="mallory-target")
    axes_reset()


def log_in(client: Client, username: str, password: str, path: str | None = None):
    return client.post(path or reverse("login"), {"username": username, "password": password})


def fail_until_locked(client: Client, username: str, path: str | None = None) -> None:
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = log_in(client, username, "wrong-password", path)
        expected = 429 if attempt == settings.AXES_FAILURE_LIMIT else 200
        assert response.status_code == expected, f"attempt {attempt}: {response.status_code}"


def test_repeated_failed_logins_lock_the_account_out_even_with_the_right_password(client, person):
    fail_until_locked(client, person.username)
    response = log_in(client, person.username, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_cool_off(client, person):
    fail_until_locked(client, person.username)
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        response = log_in(client, person.username, DEFAULT_PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(person.pk)


def test_the_lockout_is_per_username_and_address(client, person):
    fail_until_locked(client, person.username)
    other = UserFactory(username="someone-else")
    assert log_in(client, other.username, DEFAULT_PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="203.0.113.7")
    assert log_in(elsewhere, person.username, DEFAULT_PASSWORD).status_code == 302


def test_a_successful_login_resets_the_count(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, person.username, "wrong-password")
    assert log_in(client, person.username, DEFAULT_PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, person.username, "wrong-password").status_code == 200
    assert log_in(client, person.username, DEFAULT_PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client, person):
    person.is_staff = True
    person.save()
    fail_until_locked(client, person.username, reverse("admin:login"))
    response = log_in(client, person.username, DEFAULT_PASSWORD, reverse("admin:login"))
    assert response.status_code == 429


# --------------------------------------------------------------------------- sessions


def test_a_session_expires_after_session_cookie_age(client, person):
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert log_in(client, person.username, DEFAULT_PASSWORD).status_code == 302
    home = reverse("catalog:learner_catalog")
    assert client.get(home).status_code == 200
    later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    with time_machine.travel(later, tick=False):
        response = client.get(home)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
