"""Serializer fields that accept exactly what the schema says.

DRF coerces `123` into `"123"` and `0` into `False`; the schema promises a string or a boolean,
so those are rejected here (a client sending a number for an e-mail has a bug worth seeing).
"""

from __future__ import annotations

import datetime
from typing import Any

from rest_framework import serializers

from shared.validators import refuse_control_characters


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SingleLineCharField(StrictCharField):
    """A name: one line of text, without control characters (it reaches e-mail subjects and
    log lines)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(refuse_control_characters)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF would take "4", 4.0 and true (a bool is an int in Python)."""

    default_error_messages = {"invalid": "Must be an integer."}

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A JSON array only: DRF would iterate a dict's keys (or a string's characters)."""

    def to_internal_value(self, data: Any) -> list:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class UtcDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC ending in Z, whatever TIME_ZONE the site runs in (the 360Learning format)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=datetime.UTC, **kwargs)


def secret_field(what: str) -> StrictCharField:
    """A write-only secret: never returned; blank or absent keeps the stored one."""
    return StrictCharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        style={"input_type": "password"},
        help_text=f"Write-only. Blank or absent keeps the stored {what}.",
    )


def counts_serializer(name: str, counters: tuple[str, ...]) -> type[serializers.Serializer]:
    """A serializer class named `name` with one integer field per run counter."""
    fields = {counter: serializers.IntegerField() for counter in counters}
    return type(name, (serializers.Serializer,), fields)
