"""Setting an integration up: save the form, SETUP INTEGRATION (validate, activate), DEACTIVATE."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from integrations.connectors.providers import provider_for
from integrations.core.audit import (
    SettingsSpec,
    audit_record,
    audit_settings_changed,
    settings_apply,
    settings_update,
)
from integrations.core.events import owner_status_changed
from integrations.core.runs import send_after_commit
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
    "page_concurrency",
)


SETTINGS = SettingsSpec(AuditEntry, EDITABLE_FIELDS, frozenset(SECRET_FIELDS))


def integration_get_or_new(*, group, provider: str = "udemy") -> Integration:
    integration = Integration.objects.filter(group=group, provider=provider).first()
    return integration or Integration(group=group, provider=provider)


CREDENTIAL_FIELDS = (
    "client_id",
    "client_secret",
    "organization_name",
    "organization_id",
    "api_base_url",
)


@dataclass(frozen=True)
class SaveResult:
    ok: bool
    message: str
    integration: Integration
    changed: tuple[str, ...] = ()
    verified: bool = False


def integration_update(*, integration: Integration, actor, data: dict[str, Any]) -> list[str]:
    """Apply changed fields without any check (a blank secret keeps the stored one); audit
    names, never values. For seeding and tests: the console and the API use `integration_save`."""
    if integration.owner_id is None and actor is not None and actor.is_authenticated:
        integration.owner = actor
    return settings_update(integration, SETTINGS, actor=actor, data=data)


def integration_save(
    *, integration: Integration, actor, data: dict[str, Any], activate: bool = False
) -> SaveResult:
    """Save the settings form (console and API), and with `activate` press SETUP INTEGRATION.

    Credentials are verified and atomic: when they change on an integration that runs (Active
    or Error), or when the integration is being activated, the resulting set is checked against
    the provider *before* anything is stored. A refused check changes nothing (credentials,
    toggles, status, activation date) and is audited. A verified set is written whole under a
    row lock, so two admins saving at once never leave a mix of both: the last verified save
    wins. Toggles and other settings alone save without a check. A blank secret keeps the
    stored one; with none stored, it is required.
    """
    candidate = copy.copy(integration)
    changed = settings_apply(candidate, data=data, editable=EDITABLE_FIELDS, secrets=SECRET_FIELDS)
    credentials = [name for name in changed if name in CREDENTIAL_FIELDS]
    must_check = activate or (bool(credentials) and integration.accepts_runs)
    if must_check:
        if not candidate.client_secret:
            return SaveResult(False, "Enter the client secret: none is stored yet.", integration)
        check = provider_for(integration.provider).check_credentials(candidate)
        if not check.ok:
            if integration.pk is not None:
                audit_record(
                    AuditEntry,
                    integration=integration,
                    actor=actor,
                    action="activation_failed" if activate else "credentials_refused",
                    fields=credentials,
                    detail=check.verdict,
                )
            return SaveResult(False, check.message, integration)
    written = CREDENTIAL_FIELDS if must_check else ()
    with transaction.atomic():
        row = _locked_or_new(integration)
        fields = [n for n in EDITABLE_FIELDS if n in written or n in changed]
        # A first save names what was set, not every field of the form (a blank address, a
        # toggle left at its default): it is compared with a blank integration.
        before = Integration() if row.pk is None else row
        updated = [n for n in fields if getattr(before, n) != getattr(candidate, n)]
        for name in fields:
            setattr(row, name, getattr(candidate, name))
        if row.owner_id is None and actor is not None and actor.is_authenticated:
            row.owner = actor
        cleared = must_check and not activate and _answered_by_a_check(row)
        if activate:
            row.status, row.status_message, row.error_kind = Integration.Status.ACTIVE, "", ""
            row.activated_at = timezone.now()
        if cleared:
            _clear_error(row)  # saves the row
        elif updated or activate or row.pk is None:
            row.save()
        if updated or not integration.pk:
            audit_settings_changed(AuditEntry, row, actor=actor, fields=updated)
        if activate:
            audit_record(AuditEntry, integration=row, actor=actor, action="activate")
    _copy_state(row, integration)
    if activate:
        message = "The integration is active."
    elif must_check:
        message = "Settings saved: Udemy accepted the credentials."
    else:
        message = "Settings saved."
    return SaveResult(True, message, integration, tuple(updated), verified=must_check)


# Error kinds a passed credential check answers (a run's bad responses are not: only a run
# tells they stopped).
CLEARED_BY_A_CHECK = (Integration.ErrorKind.CREDENTIALS, Integration.ErrorKind.UNAVAILABLE)


def _answered_by_a_check(row: Integration) -> bool:
    return row.status == Integration.Status.ERROR and row.error_kind in CLEARED_BY_A_CHECK


def _clear_error(row: Integration) -> None:
    """A check Udemy just passed answers an Error about credentials or reachability: back to
    Active (saved), and the status change is told once the transaction commits (the banner
    would otherwise contradict the success message above it)."""
    row.status, row.status_message, row.error_kind = Integration.Status.ACTIVE, "", ""
    row.save()
    send_after_commit(
        owner_status_changed,
        sender=Integration,
        owner=row,
        old=Integration.Status.ERROR,
        new=Integration.Status.ACTIVE,
    )


def integration_check_again(*, integration: Integration, actor) -> SaveResult:
    """Check again: an Error about the credentials or reaching Udemy may be over without any
    change on the admin's side (an outage ended, a key restored in Udemy Business). The stored
    credentials go through the same check a save runs; a pass clears the Error as a passed
    check on save does, a refusal changes nothing and says why. Audited either way."""
    if not _answered_by_a_check(integration):
        return SaveResult(
            False,
            gettext("Only an error about the credentials or reaching Udemy can be checked again."),
            integration,
        )
    check = provider_for(integration.provider).check_credentials(integration)
    if not check.ok:
        audit_record(
            AuditEntry,
            integration=integration,
            actor=actor,
            action="check_refused",
            detail=check.verdict,
        )
        message = gettext("Checked again: %(reason)s Nothing was changed.")
        return SaveResult(False, message % {"reason": check.message}, integration)
    with transaction.atomic():
        row = Integration.objects.select_for_update().get(pk=integration.pk)
        if _answered_by_a_check(row):  # a run may have cleared it meanwhile
            _clear_error(row)
        audit_record(AuditEntry, integration=row, actor=actor, action="check_passed")
    _copy_state(row, integration)
    message = gettext("Udemy accepted the stored credentials: the integration is Active again.")
    return SaveResult(True, message, integration, verified=True)


def _locked_or_new(integration: Integration) -> Integration:
    """The stored row, locked until the transaction ends, or a new one (a concurrent first save
    of the same group and provider loses on the unique constraint, as a database error)."""
    if integration.pk is None:
        found = Integration.objects.filter(
            group=integration.group, provider=integration.provider
        ).select_for_update()
        return found.first() or Integration(group=integration.group, provider=integration.provider)
    return Integration.objects.select_for_update().get(pk=integration.pk)


def _copy_state(source: Integration, target: Integration) -> None:
    """Let the caller's instance show what was stored."""
    for field in Integration._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False


def integration_activate(*, integration: Integration, actor) -> SaveResult:
    """SETUP INTEGRATION with the stored settings: check the credentials against the provider,
    then activate. A failed check activates nothing and returns the provider's clear message."""
    return integration_save(integration=integration, actor=actor, data={}, activate=True)


def integration_deactivate(*, integration: Integration, actor) -> Integration:
    """DEACTIVATE: stops scheduled syncs (only active integrations are scheduled); keeps the
    catalog and statistics; queued runs are skipped."""
    with transaction.atomic():
        integration.status, integration.status_message, integration.error_kind = (
            Integration.Status.INACTIVE,
            "",
            "",
        )
        integration.save(update_fields=["status", "status_message", "error_kind", "updated_at"])
        SyncRun.objects.filter(integration=integration, status=SyncRun.Status.QUEUED).update(
            status=SyncRun.Status.SKIPPED,
            error_summary="Skipped: the integration was deactivated.",
            finished_at=timezone.now(),
        )
        audit_record(AuditEntry, integration=integration, actor=actor, action="deactivate")
    return integration
