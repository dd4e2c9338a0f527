"""Audit entries (who did what to an integration or a connection, when; field names only) and
the settings update they record."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from integrations.core.models import AuditEntryBase


def audit_record(
    model: type[AuditEntryBase],
    *,
    actor: Any,
    action: str,
    fields: Iterable[str] = (),
    detail: str = "",
    toggles: dict[str, bool] | None = None,
    **owner: Any,
) -> AuditEntryBase:
    """One entry of `model` for `owner` (``integration=…`` or ``connection=…``); an anonymous
    actor is recorded as nobody."""
    return model.objects.create(
        **owner,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        fields=sorted(fields),
        toggles={k: v for k, v in (toggles or {}).items() if isinstance(v, bool)},
        detail=detail[:500],
    )


def toggles_of(owner: Any, names: Iterable[str]) -> dict[str, bool]:
    """The new values of the on/off settings among `names` (what the audit may keep)."""
    values = {name: getattr(owner, name, None) for name in names}
    return {name: value for name, value in values.items() if isinstance(value, bool)}


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


@dataclass(frozen=True)
class SettingsSpec:
    """What a settings form may change on an owner, which of it is secret, where it is audited."""

    audit_model: type[AuditEntryBase]
    editable: tuple[str, ...]
    secrets: frozenset[str]


def settings_update(
    owner: Any,
    spec: SettingsSpec,
    *,
    actor: Any,
    data: dict[str, Any],
    adjust: Callable[[list[str]], None] | None = None,
) -> list[str]:
    """Apply `data` to `owner` (`settings_apply`), let `adjust(changed)` update what follows from
    the change, save, and audit the changed field names (never their values)."""
    changed = settings_apply(owner, data=data, editable=spec.editable, secrets=spec.secrets)
    if adjust is not None:
        adjust(changed)
    if changed or owner.pk is None:
        owner.save()
        audit_settings_changed(spec.audit_model, owner, actor=actor, fields=changed)
    return changed


def audit_settings_changed(
    audit_model: type[AuditEntryBase], owner: Any, *, actor: Any, fields: list[str]
) -> AuditEntryBase:
    """The "update" entry of a settings change: the changed names, and the new values of the
    on/off settings among them (never another value)."""
    return audit_record(
        audit_model,
        **{_owner_field(audit_model, owner): owner},
        actor=actor,
        action="update",
        fields=fields,
        toggles=toggles_of(owner, fields),
    )


def _owner_field(audit_model: type[AuditEntryBase], owner: Any) -> str:
    """The foreign key of `audit_model` that points at `owner`'s model."""
    return next(
        f.name for f in audit_model._meta.fields if f.is_relation and f.related_model is type(owner)
    )
