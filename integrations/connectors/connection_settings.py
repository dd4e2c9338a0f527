"""Validation of a connection's settings, shared by the console form and the API serializer:
what each kind requires, numeric LearnUpon ids, and the client's own host rule (allow-list).

Each kind's settings are columns of `PlatformConnection`; the connector class says which are its
own (`settings_fields`), which are required and which one is its secret.
"""

from __future__ import annotations

from typing import Any

from .platforms import PLATFORMS

REQUIRED: dict[str, tuple[str, ...]] = {k: c.required_fields for k, c in PLATFORMS.items()}
SECRET: dict[str, str] = {kind: c.secret_field for kind, c in PLATFORMS.items()}
NUMERIC = ("learnupon_owner_id", "target_group_id")
# The settings each kind has (the form shows, and a save applies, only the chosen kind's).
KIND_FIELDS: dict[str, tuple[str, ...]] = {k: c.settings_fields for k, c in PLATFORMS.items()}
COMMON_FIELDS = ("kind", "base_url")


def fields_for_kind(kind: str) -> tuple[str, ...]:
    """The settings of a connection of `kind` (an unknown kind: every kind's, to be refused)."""
    if kind in KIND_FIELDS:
        return (*COMMON_FIELDS, *KIND_FIELDS[kind])
    return (*COMMON_FIELDS, *(name for names in KIND_FIELDS.values() for name in names))


def connection_errors(
    values: dict[str, Any], *, stored_secret: bool, stored_cataloged: bool = False
) -> dict[str, list[str]]:
    """Field → messages (empty when the settings are usable). `stored_secret`: a secret of
    this kind is already stored (a blank one then means "keep it"); `stored_cataloged`: the
    LearnUpon catalog choice is already made (an absent one keeps it)."""
    kind = values.get("kind", "")
    if kind not in PLATFORMS:
        return {"kind": [f"Choose one of {', '.join(PLATFORMS)}."]}
    label = PLATFORMS[kind].label
    errors: dict[str, list[str]] = {}
    for name in REQUIRED[kind]:
        if not str(values.get(name) or "").strip():
            errors[name] = [f"Required for {label}."]
    secret = SECRET[kind]
    if not values.get(secret) and not stored_secret:
        errors[secret] = [f"Required for {label}: none is stored yet."]
    for name in NUMERIC:
        value = str(values.get(name) or "")
        if value and not value.isdigit():
            errors[name] = ["Use the numeric id shown in LearnUpon."]
    if kind == "learnupon" and values.get("learnupon_cataloged") is None and not stored_cataloged:
        errors["learnupon_cataloged"] = [
            "Choose whether pushed courses are listed in the portal catalog (seen by every user "
            "of the portal)."
        ]
    if values.get("udemy_stats_from_report") and kind != "coursebase":
        errors["udemy_stats_from_report"] = [
            "Only a Coursebase connection exports Udemy's activity."
        ]
    required_ok = not any(name in errors for name in REQUIRED[kind])
    if required_ok and (problem := PLATFORMS[kind].config_problem(values)):
        errors[problem[0]] = [problem[1]]
    return errors
