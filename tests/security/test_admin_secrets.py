"""Promise (Secrets and access) and Known trap: the stock Django admin renders an encrypted
field's *decrypted* value on change and view pages, even to view-only users. Here the secret is
write-only in the admin too: never rendered, blank keeps it, only a change permission sets it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations.models import Integration
from tests.factories import UserFactory

from .conftest import SECRET, assert_no_secret

pytestmark = pytest.mark.django_db


def superuser():
    return UserFactory(is_superuser=True, is_staff=True)


def view_only_staff():
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_integration"))
    return staff


def change_url(integration: Integration) -> str:
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def admin_form(integration: Integration, **changes) -> dict[str, str]:
    data = {
        "group": str(integration.group_id),
        "provider": integration.provider,
        "client_id": integration.client_id,
        "organization_name": integration.organization_name,
        "organization_id": integration.organization_id,
        "api_base_url": integration.api_base_url,
        "status": integration.status,
        "owner": "",
        "new_client_secret": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("make_user", [superuser, view_only_staff], ids=["superuser", "view-only"])
def test_the_admin_page_of_an_integration_never_shows_the_secret(client, integration_a, make_user):
    client.force_login(make_user())
    response = client.get(change_url(integration_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert integration_a.client_id in html  # the page really shows this integration
    assert_no_secret([html], where="the admin page")
    for tag in re.findall(r"<input[^>]*client_secret[^>]*>", html):
        assert 'type="password"' in tag and "value=" not in tag, tag


def test_a_view_only_user_gets_no_secret_field_and_cannot_post_one(client, integration_a):
    client.force_login(view_only_staff())
    html = client.get(change_url(integration_a)).content.decode()
    assert 'name="new_client_secret"' not in html
    response = client.post(
        change_url(integration_a), admin_form(integration_a, new_client_secret="x")
    )
    assert response.status_code == 403
    assert Integration.objects.get(pk=integration_a.pk).client_secret == SECRET


def test_a_blank_secret_in_the_admin_form_keeps_the_stored_one(client, integration_a):
    client.force_login(superuser())
    form = admin_form(integration_a, organization_name="renamed")
    response = client.post(change_url(integration_a), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Integration.objects.get(pk=integration_a.pk)
    assert (saved.organization_name, saved.client_secret) == ("renamed", SECRET)


def test_a_typed_secret_in_the_admin_form_replaces_it_and_is_not_echoed(client, integration_a):
    client.force_login(superuser())
    client.post(change_url(integration_a), admin_form(integration_a, new_client_secret="n3w-One"))
    assert Integration.objects.get(pk=integration_a.pk).client_secret == "n3w-One"
    html = client.get(change_url(integration_a)).content.decode()
    assert "n3w-One" not in html
    history = client.get(change_url(integration_a).replace("change/", "history/"))
    assert "n3w-One" not in history.content.decode()
