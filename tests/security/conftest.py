"""Fixtures of the security tests: two groups (A attacks, B is attacked), their people, a
sandbox whose client secret is a value every check looks for, and helpers to scan for it."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterable

import pytest
import requests

from catalog.models import Group
from integrations.models import Integration
from tests.factories import GroupFactory, IntegrationFactory, group_admin, group_learner
from tests.integrations.conftest import make_integration, owner, run_sync  # noqa: F401
from tests.integrations.platforms.conftest import make_coursebase_sandbox, make_learnupon_sandbox  # noqa: F401

CLIENT_ID = "sec-client-id"
SECRET = "Sup3r-s3cret-VALUE-0xC0FFEE"  # what the integration stores
WRONG_SECRET = "typed-Wrong-secret-0xBADF00D"  # what an admin mistypes


def secret_forms(secret: str = SECRET, client_id: str = CLIENT_ID) -> list[str]:
    """Every shape the secret travels in: raw, `id:secret`, and the Basic auth token."""
    token = b64encode(f"{client_id}:{secret}".encode()).decode()
    return [secret, f"{client_id}:{secret}", token]


def assert_no_secret(texts: Iterable[str], *secrets: str, where: str = "") -> None:
    forms = [form for secret in (secrets or (SECRET,)) for form in secret_forms(secret)]
    for text in texts:
        for form in forms:
            assert form not in text, f"secret form {form!r} found in {where or 'output'}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Users are made in nearly every test; the production hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def secret_sandbox(make_udemy_sandbox):
    """A started sandbox that accepts CLIENT_ID / SECRET."""
    return make_udemy_sandbox(client_id=CLIENT_ID, client_secret=SECRET)


@pytest.fixture
def group_a() -> Group:
    return GroupFactory(name="Group A", slug="group-a")


@pytest.fixture
def group_b() -> Group:
    return GroupFactory(name="Group B", slug="group-b")


@pytest.fixture
def admin_a(group_a):
    return group_admin(group_a, username="admin-a")


@pytest.fixture
def learner_a(group_a):
    return group_learner(group_a, username="learner-a")


@pytest.fixture
def integration_a(group_a) -> Integration:
    return IntegrationFactory(
        group=group_a, client_id=CLIENT_ID, client_secret=SECRET, status=Integration.Status.ACTIVE
    )


@pytest.fixture
def no_internet(monkeypatch) -> None:
    """Views that call a provider or platform may only reach loopback (the sandboxes)."""
    send = requests.adapters.HTTPAdapter.send

    def loopback_only(self, request, *args, **kwargs):
        host = requests.utils.urlparse(request.url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise requests.ConnectionError(f"no internet in this test ({host})")
        return send(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", loopback_only)
