"""Form pieces the settings pages share."""

from __future__ import annotations

from typing import Any

from django import forms

# Help texts, not secrets.
SECRET_HELP_STORED = "Write-only: a secret is stored. Leave blank to keep it."  # noqa: S105
SECRET_HELP_EMPTY = "Write-only: never shown again."  # noqa: S105


def secret_field(label: str, **options: Any) -> forms.CharField:
    """A write-only secret: never rendered back (not even after an invalid submission); a blank
    value means "keep the stored one" (the services skip it)."""
    options.setdefault("help_text", SECRET_HELP_EMPTY)
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        **options,
    )


def optional_text(label: str, max_length: int, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=max_length, help_text=help_text)
