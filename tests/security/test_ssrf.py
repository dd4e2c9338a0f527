"""Promise (Secrets and access): "the Udemy base URL is derived from the organization name; an
override is accepted only for hosts in an allow-list setting (no SSRF)".

With production's allow-list (`*.udemy.com`, no loopback) every layer refuses the same URLs: the
client, the API, the console form — and a URL that got into the database some other way (an
admin edit, a restored dump) is refused at sync and SETUP time *before any request leaves*.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from catalog.templatetags.admin_words import words_only
from integrations.models import Integration, SyncError, SyncRun
from integrations.providers.udemy.client import UdemyClient, UdemyConfigError, UdemyCredentials
from integrations.services.setup import integration_activate

from .conftest import CLIENT_ID, SECRET

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[::ffff:a9fe:a9fe]/api-2.0/",  # the same, IPv6-mapped
    "https://demo.udemy.com.evil.example/api-2.0/organizations/4242/",
    "https://evil.example/?x=.udemy.com",
    "https://evil.example#.udemy.com",
    "https://evil.example@demo.udemy.com/api-2.0/",
    "https://demo.udemy.com\\@evil.example/",
    "http://demo.udemy.com/api-2.0/organizations/4242/",  # plain http off loopback
    "http://127.0.0.1:8001/api-2.0/organizations/4242/",  # loopback: not in production
    "https://0x7f.0.0.1/api-2.0/",
    "file:///etc/passwd",
    pytest.param(
        "https://ｅｖｉｌ.udemy.com/api-2.0/",  # fullwidth letters: not a valid IDNA label
        id="fullwidth-idna",
    ),
]


@pytest.fixture(autouse=True)
def production_allow_list(settings) -> None:
    settings.UDEMY_ALLOWED_API_HOSTS = ["*.udemy.com"]


def credentials(api_base_url: str) -> UdemyCredentials:
    return UdemyCredentials(CLIENT_ID, SECRET, "demo", "4242", api_base_url=api_base_url)


@pytest.mark.parametrize("url", REFUSED)
def test_the_client_refuses_a_host_outside_the_allow_list(url):
    with pytest.raises(UdemyConfigError):
        UdemyClient(credentials(url))


def test_the_client_accepts_an_allowed_override_and_derives_the_default():
    assert UdemyClient(credentials("")).base_url == (
        "https://demo.udemy.com/api-2.0/organizations/4242/"
    )
    eu = "https://eu.udemy.com/api-2.0/organizations/4242/"
    assert UdemyClient(credentials(eu)).base_url == eu


@pytest.mark.parametrize("url", REFUSED)
def test_the_api_refuses_it_with_a_400(client, group_a, admin_a, url):
    client.force_login(admin_a)
    body = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "organization_name": "demo",
        "organization_id": "4242",
        "api_base_url": url,
    }
    path = reverse("api:udemy", args=[group_a.slug])
    response = client.put(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert "api_base_url" in response.json()
    assert not Integration.objects.filter(group=group_a).exists()


@pytest.mark.parametrize("url", REFUSED)
def test_the_console_form_re_renders_with_the_error(client, group_a, admin_a, url):
    client.force_login(admin_a)
    data = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "organization_name": "demo",
        "organization_id": "4242",
        "api_base_url": url,
        "action": "setup",
    }
    response = client.post(reverse("integrations:provider", args=[group_a.slug, "udemy"]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please correct the errors below." in html
    with pytest.raises(UdemyConfigError) as refusal:
        UdemyClient(credentials(url))
    # the client's own words on the form, a setting's name read as what it allows
    assert escape(words_only(refusal.value.message)) in html
    assert not Integration.objects.filter(group=group_a).exists()


@pytest.fixture
def smuggled(make_integration, secret_sandbox) -> Integration:
    """An integration whose stored override points at the (loopback) sandbox, which production's
    allow-list refuses: as if it had been written past the forms."""
    return make_integration(secret_sandbox, client_id=CLIENT_ID, client_secret=SECRET)


def test_a_smuggled_url_fails_the_sync_before_any_request(smuggled, secret_sandbox, run_sync):
    run = run_sync(smuggled)
    assert run.status == SyncRun.Status.FAILED
    error = SyncError.objects.get(run=run)
    assert error.category == "UdemyConfigError"
    assert "UDEMY_ALLOWED_API_HOSTS" in error.message
    assert secret_sandbox.request_log == []  # nothing left the building


def test_a_smuggled_url_fails_setup_before_any_request(smuggled, secret_sandbox, admin_a):
    result = integration_activate(integration=smuggled, actor=admin_a)
    assert not result.ok
    assert "not in the allowed list" in result.message
    assert secret_sandbox.request_log == []
