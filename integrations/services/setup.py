"""Setting an integration up: save the form, SETUP INTEGRATION (validate, activate), DEACTIVATE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.core.audit import SettingsSpec, audit_record, settings_update
from integrations.core.registry import provider_module
from integrations.models import AuditEntry, Integration, SyncRun

SECRET_FIELDS = {"client_secret"}
EDITABLE_FIELDS = (
    "client_id",
    "client_secret",
    "organization_name",
    "organization_id",
    "api_base_url",
    "sync_tags",
    "sync_learning_paths",
)


SETTINGS = SettingsSpec(AuditEntry, EDITABLE_FIELDS, frozenset(SECRET_FIELDS))


@dataclass(frozen=True)
class ActivationResult:
    ok: bool
    message: str
    integration: Integration


def integration_get_or_new(*, group, provider: str = "udemy") -> Integration:
    integration = Integration.objects.filter(group=group, provider=provider).first()
    return integration or Integration(group=group, provider=provider)


def integration_update(*, integration: Integration, actor, data: dict[str, Any]) -> list[str]:
    """Apply changed fields (a blank secret keeps the stored one); audit names, never values."""
    if integration.owner_id is None and actor is not None and actor.is_authenticated:
        integration.owner = actor
    return settings_update(integration, SETTINGS, actor=actor, data=data)


def integration_activate(*, integration: Integration, actor) -> ActivationResult:
    """SETUP INTEGRATION: check the credentials against the provider, then activate.

    A failed check activates nothing and returns the provider client's clear message.
    """
    if not integration.client_secret:
        return ActivationResult(False, "Enter the client secret.", integration)
    check = provider_module(integration.provider).check_credentials(integration)
    if not check.ok:
        audit_record(
            AuditEntry,
            integration=integration,
            actor=actor,
            action="activation_failed",
            detail=check.verdict,
        )
        return ActivationResult(False, check.message, integration)
    with transaction.atomic():
        integration.status = Integration.Status.ACTIVE
        integration.status_message = ""
        integration.activated_at = timezone.now()
        if actor is not None and actor.is_authenticated:
            integration.owner = integration.owner or actor
        integration.save()
        audit_record(AuditEntry, integration=integration, actor=actor, action="activate")
    return ActivationResult(True, "The integration is active.", integration)


def integration_deactivate(*, integration: Integration, actor) -> Integration:
    """DEACTIVATE: stops scheduled syncs (only active integrations are scheduled); keeps the
    catalog and statistics; queued runs are skipped."""
    with transaction.atomic():
        integration.status = Integration.Status.INACTIVE
        integration.save(update_fields=["status", "updated_at"])
        SyncRun.objects.filter(integration=integration, status=SyncRun.Status.QUEUED).update(
            status=SyncRun.Status.SKIPPED,
            error_summary="Skipped: the integration was deactivated.",
            finished_at=timezone.now(),
        )
        audit_record(AuditEntry, integration=integration, actor=actor, action="deactivate")
    return integration
