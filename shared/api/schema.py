"""OpenAPI details drf-spectacular can't infer: the error answers every operation may give, and
the constraints of the lists' query parameters.

Schemathesis checks every status code and body against the schema, so the errors are declared
once here rather than on each view (where one would be forgotten).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


# A 400 is either {"detail": "..."} or field → messages ({"email": ["..."]}), like DRF's own.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": 'Either {"detail": "..."} or {"<field>": ["message", ...], ...}.',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {},
}

ERROR_RESPONSES: dict[str, OpenApiResponse] = {
    "400": OpenApiResponse(VALIDATION_ERROR_SCHEMA, description="Invalid input."),
    "401": OpenApiResponse(ErrorSerializer, description="No or invalid credentials."),
    "403": OpenApiResponse(ErrorSerializer, description="Not allowed (or CSRF failure)."),
    "404": OpenApiResponse(
        ErrorSerializer,
        description="Not found, or not yours: other groups' objects are never revealed.",
    ),
    "405": OpenApiResponse(ErrorSerializer, description="Method not allowed."),
    "406": OpenApiResponse(ErrorSerializer, description="No acceptable representation."),
    "415": OpenApiResponse(ErrorSerializer, description="Send JSON."),
}


class ApiAutoSchema(AutoSchema):
    """Adds the shared error responses (JSON only) unless an operation declares its own."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        bodies = super()._get_response_bodies(direction)
        for code, response in ERROR_RESPONSES.items():
            if code not in bodies:
                bodies[code] = self._get_response_for_code(
                    response, code, ["application/json"], direction
                )
        return bodies


class ApiFilterExtension(DjangoFilterExtension):
    """drf-spectacular's django-filter support, plus what an `ApiFilter`'s serializer field
    checks (maxLength, pattern, no blank), as it documents a serializer used as parameters:
    schemathesis sends what the schema forbids and expects a 400."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        api_field = filter_field.extra.get("api_field")
        if api_field is not None:
            for parameter in parameters:
                auto_schema._insert_field_validators(api_field, parameter["schema"])
                if not getattr(api_field, "allow_blank", True):
                    parameter["schema"].setdefault("minLength", 1)
        return parameters
