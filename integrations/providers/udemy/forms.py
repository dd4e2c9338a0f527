"""The settings form of Settings → Integrations → Udemy. It validates input only (with the rule
the API serializer uses too: `settings.settings_errors`); services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.models import Integration
from lmsbridge.forms import SECRET_HELP_STORED, optional_text, secret_field

from .settings import CONFIG_FIELDS, settings_errors

SECRET_HELP_FIRST = "Required: no secret is stored yet. Write-only: never shown again once saved."  # noqa: S105


class UdemyIntegrationForm(forms.Form):
    """Settings → Integrations → Udemy. The secret is write-only (never rendered back)."""

    client_id = forms.CharField(label="client_id", max_length=200)
    client_secret = secret_field("client_secret", help_text=SECRET_HELP_FIRST)
    organization_name = forms.CharField(
        label="organization_name",
        max_length=100,
        help_text="Your Udemy Business portal name: acme for https://acme.udemy.com.",
    )
    organization_id = forms.CharField(label="organization_id", max_length=50)
    api_base_url = optional_text(
        "API base URL (optional)",
        300,
        "Leave blank to use https://ORGANIZATION_NAME.udemy.com. "
        "Only allow-listed hosts are accepted.",
    )
    sync_tags = forms.BooleanField(label="Enable tags synchronization", required=False)
    sync_learning_paths = forms.BooleanField(
        label="Enable learning paths synchronization", required=False
    )

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_secret:  # blank keeps the stored, verified secret
            self.fields["client_secret"].help_text = SECRET_HELP_STORED
        else:
            self.fields["client_secret"].required = True
            self.fields["client_secret"].error_messages["required"] = (
                "Enter the client secret: none is stored yet."
            )

    @classmethod
    def for_integration(cls, integration: Integration, data: Any = None) -> UdemyIntegrationForm:
        """A form bound to `data` (POST) or filled from the integration, secret left out."""
        has_secret = bool(integration.pk and integration.client_secret)
        if data is not None:
            return cls(data, has_secret=has_secret)
        initial = {
            name: getattr(integration, name) for name in cls.base_fields if name != "client_secret"
        }
        return cls(initial=initial, has_secret=has_secret)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        present = {f: cleaned[f] for f in CONFIG_FIELDS if f in cleaned}  # valid so far
        for field, messages in settings_errors(present).items():
            if field in present:
                self.add_error(field, messages)
        return cleaned
