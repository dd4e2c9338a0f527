"""An integration in Error: the advice names a button that is on the page, "Check again" re-runs
the credential check without any change, the advice names the admin's own last change when it
came before the failure, and the audit of a first setup names only what was set."""

from __future__ import annotations

import pytest

from integrations.core.errors import CredentialCheck
from integrations.models import AuditEntry
from integrations.providers.udemy.provider import UdemyProvider
from integrations.services.setup import integration_get_or_new, integration_save
from tests.factories import GroupFactory, group_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return GroupFactory(name="Sales", slug="sales")


@pytest.fixture
def admin(group):
    return group_admin(group, username="alice")


# --------------------------------------------------------------------------- first setup audit


def test_a_first_setup_audits_only_the_fields_that_were_set(monkeypatch, group, admin):
    """A blank API address and toggles left at their default were never set: the trail of a
    first SETUP INTEGRATION must not read "turned learning paths off, changed the API address"."""
    passed = CredentialCheck(ok=True, verdict="ok", message="Connected")
    monkeypatch.setattr(UdemyProvider, "check_credentials", lambda self, integration: passed)
    data = {
        "client_id": "id-1",
        "client_secret": "secret-1",
        "organization_name": "acme",
        "organization_id": "42",
        "api_base_url": "",
        "sync_tags": True,
        "sync_learning_paths": False,
        "page_concurrency": None,
    }
    integration = integration_get_or_new(group=group)
    result = integration_save(integration=integration, actor=admin, data=data, activate=True)
    assert result.ok
    entry = AuditEntry.objects.get(integration=integration, action="update")
    assert entry.fields == [
        "client_id",
        "client_secret",
        "organization_id",
        "organization_name",
        "sync_tags",
    ]
    assert entry.toggles == {"sync_tags": True}
