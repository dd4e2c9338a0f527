"""A group's synced catalog and its learners' statistics (platform field names)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from lmsbridge.api.renderers import CsvRenderer, csv_lines
from lmsbridge.api.views import ApiGenericView, validated_query
from lmsbridge.catalog.api.access import administered_group
from lmsbridge.catalog.api.serializers import (
    CourseFilterSerializer,
    CourseSerializer,
    StatisticFilterSerializer,
    StatisticSerializer,
)
from lmsbridge.catalog.models import Attempt, Course
from lmsbridge.catalog.selectors import attempt_list_for_group, course_list_for_group

CSV_CHUNK = 2000


class GroupCourseListView(ApiGenericView):
    """The synced catalog of a group, in the platform's field names."""

    serializer_class = CourseSerializer

    def get_queryset(self) -> QuerySet[Course]:
        filters = validated_query(CourseFilterSerializer, self.request)
        courses = course_list_for_group(group=administered_group(self.request, self.kwargs["slug"]))
        if "type" in filters:
            courses = courses.filter(kind=filters["type"])
        if "status" in filters:
            courses = courses.filter(status=filters["status"])
        if "tag" in filters:
            # EXISTS, not a join: a course must not appear twice for "python" and "Python".
            tagged = Course.tags.through.objects.filter(
                course_id=OuterRef("pk"), tag__name__iexact=filters["tag"]
            )
            courses = courses.filter(Exists(tagged))
        if filters.get("q"):
            courses = courses.filter(title__icontains=filters["q"])
        return courses

    @extend_schema(
        summary="The group's synced catalog (courses and learning paths)",
        parameters=[CourseFilterSerializer],
        responses=CourseSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class GroupStatisticListView(ApiGenericView):
    """Learners' statistics: one row per attempt, dates in UTC (ISO 8601 with Z)."""

    serializer_class = StatisticSerializer
    renderer_classes = [JSONRenderer, CsvRenderer]

    def get_queryset(self) -> QuerySet[Attempt]:
        filters = validated_query(StatisticFilterSerializer, self.request)
        attempts = attempt_list_for_group(
            group=administered_group(self.request, self.kwargs["slug"])
        )
        if filters.get("externalCourseId"):
            attempts = attempts.filter(course__external_id=filters["externalCourseId"])
        if filters.get("learnerMail"):
            attempts = attempts.filter(learner__email__iexact=filters["learnerMail"])
        return attempts

    @extend_schema(
        summary="Learners' statistics of the group's courses, one row per attempt",
        description="JSON pages, or CSV (same columns) with ?format=csv: every row, or one "
        "page if `page` is given.",
        parameters=[
            StatisticFilterSerializer,
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={
            (200, "application/json"): StatisticSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request, slug: str) -> Response | StreamingHttpResponse:
        attempts = self.get_queryset()
        if request.accepted_renderer.format != CsvRenderer.format:
            page = self.paginate_queryset(attempts)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        if self.paginator.page_query_param in request.query_params:
            return self._csv(self.paginate_queryset(attempts), slug)  # one page, if asked
        # Every row, streamed: an export is not cut at one page nor held in memory.
        return self._csv(attempts.iterator(chunk_size=CSV_CHUNK), slug)

    def _csv(self, attempts: Iterable[Attempt], slug: str) -> StreamingHttpResponse:
        columns = list(StatisticSerializer().fields)
        rows = (StatisticSerializer(attempt).data for attempt in attempts)
        response = StreamingHttpResponse(
            csv_lines(columns, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{slug}-statistics.csv"'
        return response
