"""OpenAPI details drf-spectacular can't infer: the error answers every operation may give.

Schemathesis checks every status code and body against the schema, so the errors are declared
once here rather than on each view (where one would be forgotten).
"""

from __future__ import annotations

from typing import Any

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
