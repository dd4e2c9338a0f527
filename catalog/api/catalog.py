"""A group's synced catalog and its learners' statistics (platform field names)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.access import administered_group
from catalog.api.serializers import CourseSerializer, StatisticSerializer
from catalog.course_selectors import attempt_list_for_group, course_list_for_group
from catalog.filters import CourseFilter, StatisticFilter
from catalog.models import Attempt, Course
from shared.api.renderers import CsvRenderer
from shared.api.views import ApiListView
from shared.csv_export import csv_response

CSV_CHUNK = 2000


@extend_schema_view(
    get=extend_schema(summary="The group's synced catalog (courses and learning paths)")
)
class GroupCourseListView(ApiListView):
    """The synced catalog of a group, in the platform's field names."""

    queryset = Course.objects.none()
    serializer_class = CourseSerializer
    filterset_class = CourseFilter

    def get_queryset(self) -> QuerySet[Course]:
        return course_list_for_group(group=administered_group(self.request, self.kwargs["slug"]))


class GroupStatisticListView(ApiListView):
    """Learners' statistics: one row per attempt, dates in UTC (ISO 8601 with Z)."""

    queryset = Attempt.objects.none()
    serializer_class = StatisticSerializer
    filterset_class = StatisticFilter
    renderer_classes = [JSONRenderer, CsvRenderer]

    def get_queryset(self) -> QuerySet[Attempt]:
        return attempt_list_for_group(group=administered_group(self.request, self.kwargs["slug"]))

    @extend_schema(
        summary="Learners' statistics of the group's courses, one row per attempt",
        description="JSON pages, or CSV (same columns) with ?format=csv: every row, or one "
        "page if `page` is given.",
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])],
        responses={
            (200, "application/json"): StatisticSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request, slug: str) -> Response | StreamingHttpResponse:
        fmt = request.query_params.get("format")
        if fmt is not None and fmt not in (JSONRenderer.format, CsvRenderer.format):
            # DRF falls back to JSON for an empty `?format=`: refuse it like any other value.
            raise ValidationError({"format": ["Choose json or csv."]})
        if request.accepted_renderer.format != CsvRenderer.format:
            return self.list(request)
        attempts = self.filter_queryset(self.get_queryset())
        if self.paginator.page_query_param in request.query_params:
            return self._csv(self.paginate_queryset(attempts), slug)  # one page, if asked
        # Every row, streamed: an export is not cut at one page nor held in memory.
        return self._csv(attempts.iterator(chunk_size=CSV_CHUNK), slug)

    def _csv(self, attempts: Iterable[Attempt], slug: str) -> StreamingHttpResponse:
        rows = (StatisticSerializer(attempt).data for attempt in attempts)
        columns = list(StatisticSerializer().fields)
        return csv_response(columns, rows, filename=f"{slug}-statistics.csv")
