"""Fixtures of the API tests: two groups with their admins, a learner, a superuser, and API
clients that fail the test if any response ever contains a client secret."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Group
from integrations.models import Integration
from integrations.services.sync import RUN_SYNC_TASK
from tests.factories import GroupFactory, IntegrationFactory, group_admin, group_learner
from tests.run_messages import catch_run_messages

SECRET = "s3cr3t-Value-Never-Shown"  # a test value every response is scanned for
# Every secret a test sends or stores: none may come back in any response body.
SECRETS = (SECRET, "demo-secret", "wrong-secret-value", "brand-new-secret-42")


def assert_no_secret(content: bytes) -> None:
    for secret in SECRETS:
        assert secret.encode() not in content, f"client secret {secret!r} leaked in a response"


class ScanningClient(APIClient):
    """An APIClient that checks every response body for the secrets (streamed ones too)."""

    def request(self, **kwargs):
        response = super().request(**kwargs)
        if response.streaming:
            content = b"".join(response.streaming_content)
            response.streaming_content = [content]
        else:
            content = response.content
        assert_no_secret(content)
        return response


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Users are made in nearly every test; the production hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api() -> ScanningClient:
    """Anonymous client."""
    return ScanningClient()


@pytest.fixture
def group_a() -> Group:
    return GroupFactory(name="Acme Academy", slug="acme-academy")


@pytest.fixture
def group_b() -> Group:
    return GroupFactory(name="Beta Corp", slug="beta-corp")


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123!")


@pytest.fixture
def admin_a(group_a):
    return group_admin(group_a, username="alice")


@pytest.fixture
def admin_b(group_b):
    return group_admin(group_b, username="bob")


@pytest.fixture
def learner_a(group_a):
    return group_learner(group_a, username="leo")


@pytest.fixture
def client_for() -> Callable[..., ScanningClient]:
    """`client_for(user)`: a client authenticated with the user's token, the API's usual way."""

    def make(user) -> ScanningClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = ScanningClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def su_api(client_for, superuser) -> ScanningClient:
    return client_for(superuser)


@pytest.fixture
def a_api(client_for, admin_a) -> ScanningClient:
    return client_for(admin_a)


@pytest.fixture
def b_api(client_for, admin_b) -> ScanningClient:
    return client_for(admin_b)


@pytest.fixture
def learner_api(client_for, learner_a) -> ScanningClient:
    return client_for(learner_a)


@pytest.fixture
def integration_a(group_a) -> Integration:
    """An inactive Udemy integration of group A whose stored secret is SECRET."""
    return IntegrationFactory(group=group_a, client_secret=SECRET)


@pytest.fixture
def active_integration_a(integration_a) -> Integration:
    integration_a.status = Integration.Status.ACTIVE
    integration_a.save(update_fields=["status"])
    return integration_a


@pytest.fixture
def record_enqueue(monkeypatch) -> list[int]:
    """Record the sync runs sent to the broker instead of sending them: no broker, no eager
    mode."""
    enqueued: list[int] = []
    catch_run_messages(monkeypatch, RUN_SYNC_TASK, enqueued.append)
    return enqueued
