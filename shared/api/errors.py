"""Every API error is JSON with a message a person can act on; bad input is never a 5xx."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the two Django errors a write can still raise past the serializers.

    Serializers and services catch the expected cases with a precise message; these are the
    safety net for a race (two requests creating the same e-mail) so it answers 4xx, not 500.
    """
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, IntegrityError):
        exc = Conflict("The change conflicts with existing data (a duplicate?): reload and retry.")
    return exception_handler(exc, context)


@csrf_exempt  # no side effect; else an unknown URL POSTed to answers CSRF's HTML 403
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """JSON 404 for any unknown URL under /api/v1/ (Django's own 404 page is HTML).

    APPEND_SLASH can't redirect here (this catch-all matches first), so say what to type.
    """
    detail = f"No API endpoint at {request.path}."
    if not request.path.endswith("/"):
        try:
            resolved = resolve(request.path + "/")
        except Resolver404:
            resolved = None
        if resolved is not None and resolved.func is not api_not_found:
            detail += f" Did you mean {request.path}/ (with the trailing slash)?"
    return JsonResponse({"detail": detail}, status=404)
