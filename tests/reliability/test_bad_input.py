"""Promise (views): bad input never becomes a 500 — oversized, unicode, control-character or
empty values re-render the form with a message and save nothing; odd filters and searches are
ignored or answered, never crashed on."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import AuditEntry, Integration
from tests.factories import GroupFactory, IntegrationFactory, group_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return GroupFactory(name="Bad input", slug="bad-input")


@pytest.fixture
def admin(client, group):
    client.force_login(group_admin(group))
    return client


def form(sandbox, **changes) -> dict[str, str]:
    data = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "organization_name": sandbox.organization_name,
        "organization_id": sandbox.organization_id,
        "api_base_url": sandbox.api_base_url,
        "action": "setup",
    }
    data.update(changes)
    return data


def provider_url(group) -> str:
    return reverse("integrations:provider", args=[group.slug, "udemy"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("client_id", "x" * 201, "at most 200 characters"),
        ("organization_name", "n" * 101, "at most 100 characters"),
        ("organization_id", "4" * 51, "at most 50 characters"),
        ("api_base_url", "https://eu.udemy.com/" + "a" * 300, "at most 300 characters"),
        ("client_id", "", "This field is required."),
        ("organization_name", "   ", "This field is required."),
        ("organization_id", "", "This field is required."),
        ("organization_name", "ａｃｍｅ", "is not valid"),  # fullwidth letters
        ("organization_name", "acmé", "is not valid"),
        ("organization_name", "💥", "is not valid"),
        ("organization_id", "٤٢", "is not valid"),  # Arabic-Indic digits
        ("client_id", "demo\x00client", "Null characters are not allowed."),
    ],
)
def test_the_form_re_renders_with_a_message_and_saves_nothing(
    admin, group, udemy_sandbox, field, value, message
):
    response = admin.post(provider_url(group), form(udemy_sandbox, **{field: value}))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please correct the errors below." in html
    assert message in html
    assert not Integration.objects.filter(group=group).exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "secret",
    [
        "sécret-with-latin-1",
        pytest.param("secret-✓-beyond-latin-1"),
        pytest.param("秘密のキー"),
        "x" * 10_000,
    ],
    ids=["latin-1", "beyond-latin-1", "cjk", "10k-chars"],
)
def test_an_odd_secret_gives_the_admin_a_message_never_a_500(admin, group, udemy_sandbox, secret):
    """Udemy would reject these; the admin reads why, the form keeps its values."""
    response = admin.post(provider_url(group), form(udemy_sandbox, client_secret=secret))
    assert response.status_code == 400, response.status_code
    html = response.content.decode()
    assert "rejected the credentials" in html or "could not" in html
    assert secret not in html
    # a refused first SETUP stores nothing
    assert not Integration.objects.filter(
        group=group
    ).exists()  # a refused first SETUP stores nothing


def test_a_body_over_the_upload_limit_is_a_400_not_a_500(admin, group, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    response = admin.post(provider_url(group), {"client_id": "x" * (128 * 1024)})
    assert response.status_code == 400
    assert not Integration.objects.filter(group=group).exists()


@pytest.mark.parametrize(
    "query",
    [
        "kind=💥&status=<script>&trigger=%00",
        "page=999999999999999999999",
        "page=-1&kind=content",
        "kind=" + "k" * 5000,
    ],
)
def test_odd_history_filters_are_ignored(admin, group, query):
    IntegrationFactory(group=group)
    url = reverse("integrations:history", args=[group.slug])
    assert admin.get(f"{url}?{query}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(
            "q=%00",
        ),
        "q=" + "é" * 3000,
        "q=💥&tag=<b>&lang=zz-ZZ&kind=nope&status=nope",
        "page=abc",
    ],
)
def test_odd_catalog_searches_are_answered(admin, group, query):
    IntegrationFactory(group=group)
    for url in (
        reverse("catalog:group_catalog", args=[group.slug]),
        reverse("catalog:learner_catalog"),
    ):
        assert admin.get(f"{url}?{query}").status_code == 200, (url, query)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/groups/bad-input/integrations/udemy/",
        "/api/v1/groups/bad-input/platform/",
        "/api/v1/groups/",
        "/api/v1/learners/",
    ],
)
@pytest.mark.parametrize("depth", [40, 50_000])
def test_deeply_nested_json_is_a_400_never_a_500(admin, group, path, depth):
    """`[[[…]]]` 50,000 levels deep used to raise RecursionError (a 500 whose DEBUG page showed
    the body). The API refuses JSON nested deeper than its documents ever are."""
    body = "[" * depth + "]" * depth
    method = admin.put if "integrations" in path or "platform" in path else admin.post
    response = method(path, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
