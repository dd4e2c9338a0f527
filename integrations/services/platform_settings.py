"""A group's platform connection settings: save them (verified against the platform before
anything is stored), and Test connection.

Secrets are write-only: a blank value keeps the stored one, and audit entries name fields, never
values.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.connectors.connection_settings import fields_for_kind
from integrations.connectors.platforms import PLATFORMS, platform_for
from integrations.core.audit import (
    SettingsSpec,
    audit_record,
    audit_settings_changed,
    settings_apply,
    settings_update,
)
from integrations.models import PlatformAuditEntry, PlatformConnection
from integrations.platforms.base import CredentialCheck
from integrations.selectors.platforms import connection_for_group

logger = logging.getLogger(__name__)
# What a form or an API call may change: the kind, each kind's own columns (declared by its
# connector class), and the address (derived from them, or the sandbox's).
SECRET_FIELDS = frozenset(c.secret_field for c in PLATFORMS.values() if c.secret_field)
EDITABLE_FIELDS = (
    "kind",
    *dict.fromkeys(name for c in PLATFORMS.values() for name in c.settings_fields),
    "base_url",
)
# Changing one of these means the last "Test connection" no longer vouches for the settings.
SETTINGS = SettingsSpec(PlatformAuditEntry, EDITABLE_FIELDS, SECRET_FIELDS)
CONNECTIVITY_FIELDS = frozenset(EDITABLE_FIELDS) - {
    "push_after_sync",
    "udemy_stats_from_report",
    "learnupon_cataloged",
}


def connection_get_or_new(*, group, kind: str = "learnupon") -> PlatformConnection:
    """The saved connection, or an unsaved one (the first save creates it)."""
    return connection_for_group(group=group) or PlatformConnection(group=group, kind=kind)


def connection_update(*, connection: PlatformConnection, actor, data: dict[str, Any]) -> list[str]:
    """Apply changed fields without any check (a blank secret keeps the stored one); audit
    names, never values. For seeding and tests: the console and the API use `connection_save`.

    A change to what the connection reaches (kind, portal, keys, ids, URL) sets it back to
    "not tested": scheduled imports and sync-time pushes wait for a new Test connection.
    """

    def adjust(changed: list[str]) -> None:
        reached = CONNECTIVITY_FIELDS & set(changed)
        if reached and connection.status != PlatformConnection.Status.INACTIVE:
            connection.status = PlatformConnection.Status.INACTIVE
            connection.status_message = "Settings changed: test the connection again."

    if data.get("learnupon_cataloged") is None:  # absent or not chosen: keep the stored choice
        data = {k: v for k, v in data.items() if k != "learnupon_cataloged"}
    return settings_update(connection, SETTINGS, actor=actor, data=data, adjust=adjust)


@dataclass(frozen=True)
class ConnectionSaveResult:
    """What a save did: `ok` False → nothing was stored (`message` says why)."""

    ok: bool
    message: str
    changed: tuple[str, ...] = ()
    check: CredentialCheck | None = None


def connection_save(
    *, connection: PlatformConnection, actor, data: dict[str, Any], test: bool = False
) -> ConnectionSaveResult:
    """Save the settings form (console and API): verify first, store only what passed.

    Only the chosen kind's settings are applied (`connection_settings.fields_for_kind`). When a new
    connection is saved, when what it reaches changes (kind, host, keys, ids, URL), or with
    `test` ("Save and test"), the resulting settings are checked against the platform *before*
    anything is stored: a refusal changes nothing (settings, status) and is audited with the
    fields it concerned (never their values), so one typo can't break a working connection.
    A verified save stores the settings and activates the connection. Toggles alone save
    without a check; `test` with nothing changed is a Test connection of the stored settings.
    """
    data = _applicable(data)
    candidate = copy.copy(connection)
    changed = settings_apply(candidate, data=data, editable=EDITABLE_FIELDS, secrets=SECRET_FIELDS)
    if connection.pk is None:  # name what was set, not every field of the form
        blank = PlatformConnection()
        changed = [n for n in changed if getattr(candidate, n) != getattr(blank, n)]
    reached = [name for name in changed if name in CONNECTIVITY_FIELDS]
    if test and not changed and connection.pk is not None:
        check = connection_test(connection=connection, actor=actor)
        return ConnectionSaveResult(check.ok, _verdict_message(connection, check), (), check)
    must_check = test or bool(reached) or connection.pk is None
    check = platform_for(candidate.kind).check_connection(candidate) if must_check else None
    if check is not None and not check.ok:
        _refused(connection, actor, reached or changed, check)
        label = candidate.get_kind_display()
        return ConnectionSaveResult(
            False,
            f"{label} refused these settings ({check.verdict}): {check.message} "
            "Nothing was stored: the connection keeps its previous settings.",
            tuple(changed),
            check,
        )
    _store(connection, candidate, changed, actor, check)
    if check is not None:
        return ConnectionSaveResult(
            True, _verdict_message(connection, check), tuple(changed), check
        )
    return ConnectionSaveResult(True, "Settings saved.", tuple(changed))


def _applicable(data: dict[str, Any]) -> dict[str, Any]:
    """The chosen kind's settings from `data`; an absent catalog choice keeps the stored one."""
    names = set(fields_for_kind(str(data.get("kind", ""))))
    applicable = {k: v for k, v in data.items() if k in names}
    if applicable.get("learnupon_cataloged") is None:
        applicable.pop("learnupon_cataloged", None)
    return applicable


def _verdict_message(connection: PlatformConnection, check: CredentialCheck) -> str:
    if check.ok:
        return f"Settings saved. Connection OK. {check.message}".strip()
    return f"Connection failed ({check.verdict}): {check.message}"


def _refused(
    connection: PlatformConnection, actor, fields: list[str], check: CredentialCheck
) -> None:
    # A refused first save stores no connection: the entry names the group instead.
    owner = {"connection": connection} if connection.pk else {"group": connection.group}
    audit_record(
        PlatformAuditEntry,
        **owner,
        actor=actor,
        action="credentials_refused",
        fields=fields,
        detail=check.verdict,
    )


def _store(
    connection: PlatformConnection,
    candidate: PlatformConnection,
    changed: list[str],
    actor,
    check: CredentialCheck | None,
) -> None:
    """Write the (verified) settings, and the verdict when there is one, in one transaction."""
    is_new = connection.pk is None
    for name in changed:
        setattr(connection, name, getattr(candidate, name))
    if check is not None:
        connection.last_tested_at = timezone.now()
        connection.status, connection.status_message = PlatformConnection.Status.ACTIVE, ""
    if not (changed or is_new or check is not None):
        return
    with transaction.atomic():
        connection.save()
        if changed or is_new:
            audit_settings_changed(PlatformAuditEntry, connection, actor=actor, fields=changed)
        if check is not None:
            audit_record(
                PlatformAuditEntry,
                connection=connection,
                actor=actor,
                action="test",
                detail=check.verdict,
            )


def connection_test(*, connection: PlatformConnection, actor) -> CredentialCheck:
    """Test connection: one cheap authenticated call (plus, for LearnUpon, the course owner
    and target group); the verdict activates the connection or marks it in error."""
    check = platform_for(connection.kind).check_connection(connection)
    connection.last_tested_at = timezone.now()
    if check.ok:
        connection.status, connection.status_message = PlatformConnection.Status.ACTIVE, ""
    else:
        connection.status = PlatformConnection.Status.ERROR
        connection.status_message = check.message[:500]
    connection.save(update_fields=["last_tested_at", "status", "status_message", "updated_at"])
    audit_record(
        PlatformAuditEntry, connection=connection, actor=actor, action="test", detail=check.verdict
    )
    return check
