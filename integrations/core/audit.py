"""Audit entries: who did what to an integration or a connection, when; field names only."""

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
