"""Validation of a Udemy integration's settings, shared by the console form and the API
serializer: the organization and the base URL are checked by the rule the client itself applies
(`build_base_url`, with the `UDEMY_ALLOWED_API_HOSTS` allow-list: no SSRF through a setting)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from .client import UdemyConfigError, UdemyCredentials, build_base_url

CONFIG_FIELDS = ("organization_name", "organization_id", "api_base_url")
# Harmless placeholders for the parts of the URL rule a probe does not test.
_PROBE = {"organization_name": "probe", "organization_id": "1"}


def config_error(**parts: str) -> str | None:
    """The client's verdict on (part of) a base-URL configuration, or None when accepted."""
    credentials = UdemyCredentials(client_id="", client_secret="", **{**_PROBE, **parts})
    try:
        build_base_url(credentials, settings.UDEMY_ALLOWED_API_HOSTS)
    except UdemyConfigError as exc:
        return exc.message
    return None


def settings_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field → messages for the organization name, organization id and optional base URL
    (empty when the client would accept them). Each part is checked on its own, so every wrong
    field is named at once."""
    errors: dict[str, list[str]] = {}
    for field in CONFIG_FIELDS:
        value = str(values.get(field) or "").strip()
        if field == "api_base_url" and not value:
            continue  # optional: derived from the organization name
        if error := config_error(**{field: value}):
            errors[field] = [error]
    return errors
