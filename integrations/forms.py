"""Forms of the integration settings pages. They validate input only; services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from integrations.models import Integration, SyncRun
from integrations.providers.udemy.client import (
    UdemyConfigError,
    UdemyCredentials,
    build_base_url,
)

# Help texts, not secrets.
SECRET_HELP_STORED = "Write-only: a secret is stored. Leave blank to keep it."  # noqa: S105
SECRET_HELP_EMPTY = "Write-only: never shown again. Leave blank to keep the stored one."  # noqa: S105
# Harmless placeholders for the parts of the URL rule a probe does not test.
_PROBE_NAME, _PROBE_ID = "probe", "1"


def _config_error(**parts: str) -> str | None:
    """The client's own verdict on (part of) a base-URL configuration, or None when accepted.

    `build_base_url` is the rule `UdemyClient` applies: the form can't accept what the client
    would refuse at sync time (same allow-list, same parsers).
    """
    values = {"organization_name": _PROBE_NAME, "organization_id": _PROBE_ID, **parts}
    credentials = UdemyCredentials(client_id="", client_secret="", **values)
    try:
        build_base_url(credentials, settings.UDEMY_ALLOWED_API_HOSTS)
    except UdemyConfigError as exc:
        return exc.message
    return None


class UdemyIntegrationForm(forms.Form):
    """Settings → Integrations → Udemy. The secret is write-only (never rendered back)."""

    client_id = forms.CharField(label="client_id", max_length=200)
    client_secret = forms.CharField(
        label="client_secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=SECRET_HELP_EMPTY,
    )
    organization_name = forms.CharField(
        label="organization_name",
        max_length=100,
        help_text="Your Udemy Business portal name: acme for https://acme.udemy.com.",
    )
    organization_id = forms.CharField(label="organization_id", max_length=50)
    api_base_url = forms.CharField(
        label="API base URL (optional)",
        required=False,
        max_length=300,
        help_text="Leave blank to use https://ORGANIZATION_NAME.udemy.com. "
        "Only allow-listed hosts are accepted.",
    )
    sync_tags = forms.BooleanField(label="Enable tags synchronization", required=False)
    sync_learning_paths = forms.BooleanField(
        label="Enable learning paths synchronization", required=False
    )

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_secret:
            self.fields["client_secret"].help_text = SECRET_HELP_STORED

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

    def clean_organization_id(self) -> str:
        value = self.cleaned_data["organization_id"].strip()
        if error := _config_error(organization_id=value):
            raise forms.ValidationError(error)
        return value

    def clean_organization_name(self) -> str:
        value = self.cleaned_data["organization_name"].strip()
        if error := _config_error(organization_name=value):
            raise forms.ValidationError(error)
        return value

    def clean_api_base_url(self) -> str:
        value = self.cleaned_data["api_base_url"].strip()
        if value and (error := _config_error(api_base_url=value)):
            raise forms.ValidationError(error)
        return value


PROVIDER_FORMS: dict[str, type[forms.Form]] = {"udemy": UdemyIntegrationForm}


def _with_blank(choices: list[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    return [("", label), *choices]


class RunFilterForm(forms.Form):
    """The filter bar of the sync history (GET); invalid values are simply ignored."""

    kind = forms.ChoiceField(required=False, choices=_with_blank(SyncRun.Kind.choices, "Any kind"))
    status = forms.ChoiceField(
        required=False, choices=_with_blank(SyncRun.Status.choices, "Any status")
    )
    trigger = forms.ChoiceField(
        required=False, choices=_with_blank(SyncRun.Trigger.choices, "Any trigger")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm w-auto"

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"kind": "", "status": "", "trigger": ""}
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}
