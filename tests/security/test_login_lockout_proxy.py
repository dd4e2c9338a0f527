"""Login throttling behind a reverse proxy: the lockout is keyed on the client's address, read
from the forwarded header only when proxies are configured (TRUSTED_PROXY_COUNT), never from a
header a client could write itself.

Behind the documented proxy on the same host every request comes from 127.0.0.1: keyed on
REMOTE_ADDR, five wrong passwords from anyone would lock any user out for everyone.
"""

from __future__ import annotations

import pytest
from axes.utils import reset as axes_reset
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"  # a reverse proxy on the same host


@pytest.fixture
def person():
    axes_reset()
    yield UserFactory(username="lockout-target")
    axes_reset()


def log_in(client: Client, username: str, password: str, **headers: str):
    data = {"username": username, "password": password}
    return client.post(reverse("login"), data, REMOTE_ADDR=PROXY, **headers)


def fail_until_locked(client: Client, username: str, **headers: str) -> None:
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = log_in(client, username, "wrong-password", **headers)
        expected = 429 if attempt == settings.AXES_FAILURE_LIMIT else 200
        assert response.status_code == expected, f"attempt {attempt}: {response.status_code}"


def test_behind_one_proxy_one_client_does_not_lock_another_out(settings, person):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker, learner = Client(), Client()
    fail_until_locked(attacker, person.username, HTTP_X_FORWARDED_FOR="198.51.100.66")
    response = log_in(learner, person.username, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert response.status_code == 302
    assert learner.session["_auth_user_id"] == str(person.pk)


def test_behind_one_proxy_a_client_cannot_escape_its_lockout_by_prepending_addresses(
    settings, person
):
    """The proxy appends the address it saw: what the client wrote before it is not trusted."""
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    fail_until_locked(client, person.username, HTTP_X_FORWARDED_FOR="198.51.100.66")
    spoofed = "203.0.113.9, 198.51.100.66"
    response = log_in(client, person.username, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR=spoofed)
    assert response.status_code == 429


def test_without_a_proxy_configured_a_spoofed_forwarded_header_does_not_escape_the_lockout(
    settings, person
):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    fail_until_locked(client, person.username, HTTP_X_FORWARDED_FOR="198.51.100.1")
    response = log_in(client, person.username, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "192.0.2.1", PROXY),  # no proxy configured: the header is ignored
        (1, "", PROXY),  # not forwarded (a local request): the connecting address
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "10.9.9.9, 192.0.2.1", "192.0.2.1"),  # the client's own entry is ignored
        (1, "10.9.9.9,192.0.2.1 ", "192.0.2.1"),
        (2, "10.9.9.9, 192.0.2.1, 10.0.0.2", "192.0.2.1"),  # two proxies: second from the right
        (2, "192.0.2.1", PROXY),  # fewer entries than proxies: not trusted
        (1, "not-an-address", PROXY),
        (1, "192.0.2.1:4444", PROXY),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_the_client_address(rf, settings, count, forwarded, expected):
    from lmsbridge.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = count
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = rf.post("/accounts/login/", REMOTE_ADDR=PROXY, **headers)
    assert client_ip(request) == expected


def test_the_header_can_be_another_one(rf, settings):
    from lmsbridge.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_HEADER = "X-Real-IP"
    request = rf.post(
        "/", REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="192.0.2.7", HTTP_X_FORWARDED_FOR="1.1.1.1"
    )
    assert client_ip(request) == "192.0.2.7"


def test_axes_reads_the_client_address_from_this_function():
    assert settings.AXES_CLIENT_IP_CALLABLE == "lmsbridge.client_ip.client_ip"
