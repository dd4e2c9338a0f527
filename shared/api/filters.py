"""Query-string filters of the API lists: django-filter FilterSets whose parameters are checked
by DRF serializer fields.

Each `ApiFilter` takes the serializer field that validates its parameter; drf-spectacular
documents the parameter from that same field (`schema.ApiFilterExtension` adds its
constraints), so the schema (enum, minLength, maxLength, pattern) says exactly what is
accepted. A bad value is a 400 naming the parameter, with DRF's message, like a bad body
field. A blank value is checked like any other: the schema says `?type=` is invalid, so it is
(django-filter alone would read it as "no filter").
"""

from __future__ import annotations

from typing import Any

from django import forms
from django_filters import Filter
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class SerializerFieldFormField(forms.Field):
    """A form field that validates with a DRF serializer field."""

    def __init__(self, *, api_field: serializers.Field, **kwargs: Any) -> None:
        self.api_field = api_field
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        if value is None:  # the parameter is absent
            return None
        try:
            return self.api_field.run_validation(value)
        except serializers.ValidationError as exc:
            details = exc.detail if isinstance(exc.detail, list) else [exc.detail]
            # django-filter %-formats each message: a "%" of the echoed input must stay literal.
            raise forms.ValidationError(
                [forms.ValidationError(str(d).replace("%", "%%"), code=d.code) for d in details]
            ) from None


class ApiFilter(Filter):
    """A query parameter validated (and documented) by `api_field`, e.g.
    `ApiFilter(StrictCharField(max_length=64), field_name="course__external_id")`."""

    field_class = SerializerFieldFormField

    def __init__(self, api_field: serializers.Field, **kwargs: Any) -> None:
        super().__init__(api_field=api_field, **kwargs)
        extend_schema_field(api_field)(self)
