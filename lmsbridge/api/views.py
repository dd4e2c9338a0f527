"""What every API view shares: JSON only, the error handler, the schema class, group lookup."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from lmsbridge.api.errors import api_exception_handler
from lmsbridge.api.pagination import StrictPageNumberPagination
from lmsbridge.api.schema import ApiAutoSchema


class ApiViewMixin:
    # JSON in and out, no browsable API: every answer, 4xx included, is JSON for a script, and
    # the schema promises exactly one request media type. (Each view's docstring is its
    # description in the OpenAPI schema.)
    schema = ApiAutoSchema()
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    pagination_class = StrictPageNumberPagination

    def get_exception_handler(self):
        return api_exception_handler

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # An error asked for as CSV (`?format=csv`) still answers JSON: errors have one shape.
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and renderer is not None and renderer.format != "json":
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class ApiView(ApiViewMixin, APIView):
    """LMS Bridge API v1."""


class ApiGenericView(ApiViewMixin, GenericAPIView):
    """LMS Bridge API v1."""


def validated_query(serializer_class: type[Serializer], request: Request) -> dict[str, Any]:
    """Query parameters checked like a body: a bad value is a 400 naming the parameter.

    A plain dict, not the QueryDict: DRF treats a blank form value as "absent", while the
    schema (minLength, enum) says `?type=` is invalid; the answer must match the schema.
    """
    serializer = serializer_class(data=request.query_params.dict())
    if not serializer.is_valid():
        raise ValidationError(serializer.errors)
    return serializer.validated_data
