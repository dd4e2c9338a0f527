"""What every API view shares: JSON only, the error handler, the schema class, list filters."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shared.api.errors import api_exception_handler
from shared.api.pagination import StrictPageNumberPagination
from shared.api.parsers import BoundedJSONParser
from shared.api.schema import ApiAutoSchema


class ApiViewMixin:
    # JSON in and out, no browsable API: every answer, 4xx included, is JSON for a script, and
    # the schema promises exactly one request media type. (Each view's docstring is its
    # description in the OpenAPI schema.)
    schema = ApiAutoSchema()
    renderer_classes = [JSONRenderer]
    parser_classes = [BoundedJSONParser]
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


class ApiListView(ApiViewMixin, ListAPIView):
    """A paginated list, narrowed by the view's `filterset_class` (django-filter): a bad query
    parameter is a 400 naming it. `get_queryset` scopes the list to what the user may see;
    the class-level `queryset` (an empty one) only tells the schema which model is listed."""

    filter_backends = [DjangoFilterBackend]


def post_action_view(
    name: str, base: type, *, summary: str, doc: str, request: Any, responses: dict, **attrs: Any
) -> type:
    """One of a family of POST actions that share their handling in `base` and differ by
    `attrs`: the view class `name`, described in the schema by `summary`, its docstring `doc`,
    the request body and the responses (defined in `base`'s module, as if written there)."""
    view = type(name, (base,), {"__module__": base.__module__, "__doc__": doc, **attrs})
    schema = extend_schema(summary=summary, request=request, responses=responses)
    return extend_schema_view(post=schema)(view)
