"""The platform connection form (Settings → Learning platform). It validates input only; the
services write. Secrets are write-only: never rendered, a blank field keeps the stored one."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.core.registry import PLATFORM_CHOICES
from integrations.models import PlatformConnection
from integrations.platforms.config import SECRET, connection_errors

SECRET_HELP_STORED = "Write-only: a secret is stored. Leave blank to keep it."  # noqa: S105
SECRET_HELP_EMPTY = "Write-only: never shown again."  # noqa: S105


def _secret_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=SECRET_HELP_EMPTY,
    )


class PlatformConnectionForm(forms.Form):
    kind = forms.ChoiceField(label="Platform", choices=PLATFORM_CHOICES)
    learnupon_portal = forms.CharField(
        label="LearnUpon portal",
        required=False,
        max_length=63,
        help_text="The subdomain: acme for https://acme.learnupon.com.",
    )
    learnupon_username = forms.CharField(label="API username", required=False, max_length=200)
    learnupon_password = _secret_field("API password")
    learnupon_owner_id = forms.CharField(
        label="Course owner id",
        required=False,
        max_length=20,
        help_text="Numeric id of the LearnUpon admin or instructor who owns pushed courses.",
    )
    target_group_id = forms.CharField(
        label="Target group id",
        required=False,
        max_length=20,
        help_text="Numeric id of the LearnUpon group the pushed courses are added to.",
    )
    coursebase_domain = forms.CharField(
        label="Coursebase custom domain",
        required=False,
        max_length=253,
        help_text="The host only, e.g. learn.acme.com (it must be in PLATFORM_ALLOWED_HOSTS).",
    )
    coursebase_token = _secret_field("API token")
    base_url = forms.CharField(
        label="API base URL (optional)",
        required=False,
        max_length=300,
        help_text="Leave blank to use the platform's address. Only allow-listed hosts.",
    )
    push_after_sync = forms.BooleanField(
        label="Push the catalog and completions after each Udemy sync (LearnUpon)",
        required=False,
    )

    def __init__(self, *args: Any, connection: PlatformConnection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        for name in SECRET.values():
            if connection.pk and getattr(connection, name):
                self.fields[name].help_text = SECRET_HELP_STORED

    @classmethod
    def for_connection(cls, connection: PlatformConnection, data: Any = None):
        """Bound to `data` (POST) or filled from the connection, secrets left out."""
        if data is not None:
            return cls(data, connection=connection)
        initial = {
            name: getattr(connection, name)
            for name in cls.base_fields
            if name not in SECRET.values()
        }
        if connection.pk is None:
            initial["push_after_sync"] = True
        return cls(initial=initial, connection=connection)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        kind = data["kind"]
        stored = bool(self.connection.pk and getattr(self.connection, SECRET[kind]))
        for name, messages in connection_errors(data, stored_secret=stored).items():
            for message in messages:
                self.add_error(name, message)
        return data
