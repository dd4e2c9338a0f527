"""A model field that stores a string encrypted with the keys of `integrations.core.crypto`."""

from __future__ import annotations

from typing import Any

from django.db import models

from integrations.core import crypto


class EncryptedTextField(models.TextField):
    """Encrypts on save, decrypts on load; an empty string is stored as is (no secret set)."""

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)

    def formfield(self, **kwargs: Any) -> Any:
        # Never render a decrypted value back into a form (admin included).
        from django import forms

        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        kwargs.setdefault("required", False)
        return super().formfield(**kwargs)
