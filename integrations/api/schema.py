"""What the integrations API's OpenAPI description repeats: an action that takes no request
body, and a refusal answered in the API's one error shape (`{"detail": ...}`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema

from shared.api.schema import ErrorSerializer


def refusal(description: str) -> OpenApiResponse:
    """An error answer, described by when it comes."""
    return OpenApiResponse(ErrorSerializer, description=description)


def body_less(summary: str, responses: dict[int, Any], **options: Any) -> Callable:
    """The schema of an action whose request is the whole message (POST or DELETE, no body):
    its `summary`, its `responses`, any other `extend_schema` option."""
    return extend_schema(summary=summary, request=None, responses=responses, **options)
