"""Audit entries (who did what to an integration or a connection, when; field names only) and
the settings update they record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from integrations.core.models import AuditEntryBase


def audit_record(
    model: type[AuditEntryBase],
    *,
    actor: Any,
    action: str,
    fields: Iterable[str] = (),
    detail: str = "",
    **owner: Any,
) -> AuditEntryBase:
    """One entry of `model` for `owner` (``integration=…`` or ``connection=…``); an anonymous
    actor is recorded as nobody."""
    return model.objects.create(
        **owner,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        fields=sorted(fields),
        detail=detail[:500],
    )


def settings_apply(
    owner: Any, *, data: dict[str, Any], editable: Iterable[str], secrets: Iterable[str]
) -> list[str]:
    """Set the `editable` fields of `owner` that `data` changes and return their names (not
    saved). A blank secret means "keep the stored one": secrets are write-only."""
    secrets = set(secrets)
    changed = []
    for name in editable:
        if name not in data:
            continue
        value = data[name]
        if name in secrets and not value:
            continue
        if owner.pk is None or getattr(owner, name) != value:
            setattr(owner, name, value)
            changed.append(name)
    return changed
