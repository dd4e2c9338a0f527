"""Form pieces the settings pages share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

StrOrPromise = str | Promise  # a label or help text, translated when rendered

# Help texts, not secrets.
SECRET_HELP_STORED = _("Write-only: a secret is stored. Leave blank to keep it.")
SECRET_HELP_EMPTY = _("Write-only: never shown again.")


def secret_field(label: StrOrPromise, **options: Any) -> forms.CharField:
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


def optional_text(
    label: StrOrPromise, max_length: int, help_text: StrOrPromise = ""
) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=max_length, help_text=help_text)
