from __future__ import annotations

import pytest

from catalog.models import Learner
from integrations.models import Integration, SyncRun
from integrations.services.sync import sync_execute
from tests.factories import GroupFactory, IntegrationFactory, UserFactory


@pytest.fixture
def owner():
    user = UserFactory(username="owner")
    Learner.objects.create(email=user.email, user=user, language="fr")
    return user


@pytest.fixture
def make_integration(owner):
    def make(sandbox, **kwargs) -> Integration:
        defaults = {
            "group": kwargs.pop("group", None) or GroupFactory(),
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "organization_name": sandbox.organization_name,
            "organization_id": sandbox.organization_id,
            "api_base_url": sandbox.api_base_url,
            "status": Integration.Status.ACTIVE,
            "owner": owner,
        }
        defaults.update(kwargs)
        return IntegrationFactory(**defaults)

    return make


@pytest.fixture
def run_sync():
    """Execute one sync in this process, as the task does, and return the finished run."""

    def run(integration: Integration, kind: str = "content") -> SyncRun:
        run = SyncRun.objects.create(
            integration=integration, kind=kind, trigger=SyncRun.Trigger.MANUAL
        )
        return sync_execute(run_id=run.pk)

    return run
