"""A refused FIRST save of a platform connection (nothing stored, so no connection to hang an
entry on) is audited for the group, like the refusals of later saves."""

from __future__ import annotations

import re

import pytest

from integrations.models import PlatformAuditEntry, PlatformConnection
from tests.integrations.platforms.test_connection_form import UNREACHABLE, url
from tests.integrations.platforms.test_pages import lu_form

pytestmark = [pytest.mark.django_db]


def test_a_refused_first_save_is_audited_for_the_group(
    page_client_for, admin_a, group_a, admin_b, group_b, learnupon_sandbox
):
    """Nothing is stored, yet who tried and why is kept: on the new connection's page, then in
    the trail of the connection saved later; another group never sees it."""
    client = page_client_for(admin_a)
    response = client.post(url(group_a), lu_form(learnupon_sandbox, base_url=UNREACHABLE))
    assert response.status_code == 400
    assert not PlatformConnection.objects.exists()
    refused = PlatformAuditEntry.objects.get(action="credentials_refused")
    assert (refused.group, refused.connection, refused.actor) == (group_a, None, admin_a)
    assert refused.detail == "unreachable" and "base_url" in refused.fields
    page = client.get(url(group_a)).content.decode()
    assert 'data-action="credentials_refused"' in page
    assert 'data-action="credentials_refused"' not in (
        page_client_for(admin_b).get(url(group_b)).content.decode()
    )

    response = client.post(url(group_a), lu_form(learnupon_sandbox), follow=True)
    assert b"Connection OK" in response.content
    actions = re.findall(r'data-action="([a-z_]+)"', response.content.decode())
    assert "credentials_refused" in actions and "update" in actions
