"""The platform connection form and API verify before they store, like the Udemy form: a
refused check changes nothing stored, is audited, and the form comes back with the reason. The
form shows only the chosen platform's fields; the audit trail reads in words and names only
what changed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from integrations.models import PlatformConnection
from integrations.templatetags.audit_display import audit_sentence
from tests.integrations.platforms.conftest import LU_SECRET
from tests.integrations.platforms.test_pages import lu_form

pytestmark = pytest.mark.django_db
UNREACHABLE = "http://127.0.0.1:9/api/v1/"  # nothing listens on the discard port


def url(group) -> str:
    return reverse("platforms:connection", kwargs={"slug": group.slug})


def input_names(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html))


@pytest.mark.parametrize("action", ["test", "save"])
def test_an_unreachable_portal_is_refused_and_nothing_is_stored(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection, action
):
    """A working connection stays as it was: same address, same status."""
    connection = make_connection(learnupon_sandbox, group=group_a)
    before = (connection.base_url, connection.status, connection.learnupon_password)
    response = page_client_for(admin_a).post(
        url(group_a), lu_form(learnupon_sandbox, base_url=UNREACHABLE, action=action)
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "nothing was stored" in text.lower()
    assert LU_SECRET not in text
    connection.refresh_from_db()
    assert (connection.base_url, connection.status, connection.learnupon_password) == before
    assert connection.status == PlatformConnection.Status.ACTIVE
    refused = connection.audit.get(action="credentials_refused")
    assert refused.fields == ["base_url"] and refused.detail == "unreachable"
    assert not connection.audit.filter(action="update").exists()


def test_a_wrong_password_is_refused_by_the_api_too(
    api_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    from tests.integrations.platforms.test_api import base, lu_body

    connection = make_connection(learnupon_sandbox, group=group_a)
    response = api_for(admin_a).put(
        base(group_a), lu_body(learnupon_sandbox, learnupon_password="wrong"), format="json"
    )
    assert response.status_code == 400
    assert "nothing was stored" in response.json()["detail"].lower()
    connection.refresh_from_db()
    assert connection.learnupon_password == LU_SECRET
    assert connection.status == PlatformConnection.Status.ACTIVE
    assert connection.audit.filter(action="credentials_refused").exists()


def test_a_verified_save_stores_and_activates(page_client_for, admin_a, group_a, learnupon_sandbox):
    response = page_client_for(admin_a).post(url(group_a), lu_form(learnupon_sandbox), follow=True)
    assert response.status_code == 200
    connection = PlatformConnection.objects.get(group=group_a)
    assert connection.status == PlatformConnection.Status.ACTIVE
    assert connection.last_tested_at is not None


def test_the_form_shows_only_the_chosen_platform_fields(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    make_connection(learnupon_sandbox, group=group_a)
    client = page_client_for(admin_a)
    names = input_names(client.get(url(group_a)).content.decode())
    assert {"learnupon_portal", "learnupon_password", "learnupon_cataloged"} <= names
    assert not names & {"coursebase_domain", "coursebase_token", "udemy_stats_from_report"}

    switched = client.get(url(group_a), {"kind": "coursebase"}).content.decode()
    names = input_names(switched)
    assert {"coursebase_domain", "coursebase_token"} <= names
    assert not names & {"learnupon_portal", "learnupon_password", "learnupon_owner_id"}

    # The select asks the server for the other kind's fields (htmx, served locally), and a
    # plain button does the same without JavaScript.
    page = client.get(url(group_a)).content.decode()
    assert 'hx-get="' in page and 'hx-trigger="change"' in page
    assert "/static/django_htmx/htmx" in page and "unpkg" not in page and "cdn" not in page
    assert 'name="action" value="switch"' in page
    response = client.post(url(group_a), {"kind": "coursebase", "action": "switch"})
    assert response.status_code == 200
    assert "coursebase_domain" in input_names(response.content.decode())
    assert PlatformConnection.objects.get(group=group_a).kind == "learnupon"  # nothing saved


def test_the_audit_trail_reads_in_words_and_names_only_changes(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    connection = make_connection(learnupon_sandbox, group=group_a)
    client = page_client_for(admin_a)
    form = lu_form(learnupon_sandbox, learnupon_password="", learnupon_portal="demo")
    client.post(url(group_a), form)  # the same values again
    assert not connection.audit.filter(action="update").exists()

    client.post(url(group_a), {**form, "push_after_sync": ""})
    entry = connection.audit.get(action="update")
    assert entry.fields == ["push_after_sync"]

    connection.audit.all().delete()
    other = learnupon_sandbox.api_base_url.rstrip("/")  # another spelling, the same portal
    client.post(url(group_a), {**form, "push_after_sync": "", "base_url": other})
    entry = connection.audit.get(action="update")
    assert entry.fields == ["base_url"]
    assert audit_sentence(entry) == "changed API base URL override"


def test_a_new_connection_audit_names_the_fields_that_were_set(
    page_client_for, admin_a, group_a, learnupon_sandbox
):
    page_client_for(admin_a).post(url(group_a), lu_form(learnupon_sandbox))
    entry = PlatformConnection.objects.get(group=group_a).audit.get(action="update")
    assert "coursebase_domain" not in entry.fields and "coursebase_token" not in entry.fields
    assert "learnupon_portal" in entry.fields and "learnupon_password" in entry.fields
