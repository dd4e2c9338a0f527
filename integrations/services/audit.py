"""Audit entries: who did what to an integration, when; field names only, never values."""

from __future__ import annotations

from collections.abc import Iterable

from integrations.models import AuditEntry, Integration


def audit_record(
    *,
    integration: Integration,
    actor,
    action: str,
    fields: Iterable[str] = (),
    detail: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        integration=integration,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        fields=sorted(fields),
        detail=detail[:500],
    )
