"""Read side of the connector: integrations, runs and errors of a group."""

from __future__ import annotations

from dataclasses import dataclass

from lmsbridge.catalog.models import Group

from .models import Integration, SyncRun
from .registry import PROVIDERS


@dataclass(frozen=True)
class IntegrationState:
    provider: str
    label: str
    integration: Integration | None
    last_run: SyncRun | None

    @property
    def status(self) -> str:
        return self.integration.get_status_display() if self.integration else "Inactive"


def integration_states_for_group(*, group: Group) -> list[IntegrationState]:
    """Every available provider with its integration (if any) and latest run: two queries."""
    integrations = {i.provider: i for i in Integration.objects.filter(group=group)}
    last_runs: dict[int, SyncRun] = {}
    for run in SyncRun.objects.filter(integration__group=group).order_by("integration_id", "-id"):
        last_runs.setdefault(run.integration_id, run)
    return [
        IntegrationState(
            provider=key,
            label=label,
            integration=integrations.get(key),
            last_run=last_runs.get(integrations[key].pk) if key in integrations else None,
        )
        for key, label in PROVIDERS.items()
    ]
