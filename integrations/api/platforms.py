"""REST API of a group's learning-platform connection (LearnUpon, Coursebase).

Routes in `integrations.api.urls.platform_urlpatterns`, under /api/v1/. Same rules as the rest
of the API: JSON only, group admins (and superusers) only, 404 for another group's objects, secrets
write-only (`*_set` booleans say whether one is stored), validation in serializers, writes in
`integrations.services.platforms`.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.access import administered_group
from integrations.api.platform_serializers import (
    AutoEnrollRequestSerializer,
    CredentialCheckSerializer,
    EnrollmentEstimateSerializer,
    PlatformConnectionSerializer,
    PlatformCourseSerializer,
    PlatformRunDetailSerializer,
    PlatformRunSerializer,
    PushRequestSerializer,
    RunConflictSerializer,
)
from integrations.api.schema import body_less, refusal
from integrations.connectors.platforms import PLATFORMS, platform_run_kinds
from integrations.filters import PlatformCourseFilter, PlatformRunFilter
from integrations.models import PlatformConnection, PlatformCourse, PlatformRun
from integrations.platforms.base import Capability, PlatformApiError
from integrations.selectors.platforms import (
    connection_for_group,
    platform_course_list,
    platform_run_get_for_group,
    platform_run_list_for_group,
)
from integrations.services.platforms import (
    AutoEnrollNotConfirmed,
    auto_enroll_preview,
    auto_enroll_set,
    auto_enroll_unlink_earlier,
    connection_get_or_new,
    connection_save,
    connection_test,
    platform_run_request,
)
from shared.api.errors import Conflict
from shared.api.schema import ErrorSerializer
from shared.api.views import ApiGenericView, ApiListView, ApiView, post_action_view

RUN_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Run id.")


def _connection(request: Request, slug: str) -> PlatformConnection:
    group = administered_group(request, slug)
    connection = connection_for_group(group=group)
    if connection is None:
        raise NotFound(f"Group '{slug}' has no platform connection yet: PUT its settings first.")
    return connection


class PlatformConnectionView(ApiGenericView):
    """The learning platform a group is connected to. Secrets are write-only."""

    serializer_class = PlatformConnectionSerializer

    def get_object(self) -> PlatformConnection:
        # DRF's OPTIONS metadata probes get_object(): the connection is looked up by group.
        return _connection(self.request, self.kwargs["slug"])

    @extend_schema(summary="The group's platform connection (secrets are never returned)")
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.get_serializer(_connection(request, slug)).data)

    @extend_schema(
        summary="Create or replace the platform connection",
        description="A new connection, or a change of kind, host, keys or ids, is checked with "
        "the platform before anything is stored: a refusal answers 400 with the reason and "
        "stores nothing; a verified save activates the connection. Only the chosen platform's "
        "settings are applied. Blank or absent secrets keep the stored ones.",
        responses={200: PlatformConnectionSerializer, 201: PlatformConnectionSerializer},
    )
    def put(self, request: Request, slug: str) -> Response:
        group = administered_group(request, slug)
        existing = connection_for_group(group=group)
        connection = existing or connection_get_or_new(group=group)
        serializer = self.get_serializer(existing, data=request.data)
        serializer.is_valid(raise_exception=True)
        result = connection_save(
            connection=connection, actor=request.user, data=serializer.validated_data
        )
        if not result.ok:
            raise ValidationError({"detail": result.message, "verdict": result.check.verdict})
        return Response(
            self.get_serializer(connection).data,
            status=status.HTTP_200_OK if existing else status.HTTP_201_CREATED,
        )


class PlatformTestView(ApiView):
    """Test connection: one cheap call with the saved settings; activates on success."""

    @body_less(
        "Test the connection (activates it when the platform accepts it)",
        {200: CredentialCheckSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        connection = _connection(request, slug)
        check = connection_test(connection=connection, actor=request.user)
        data = {"ok": check.ok, "verdict": check.verdict, "message": check.message}
        data["connection"] = PlatformConnectionSerializer(connection).data
        return Response(data)


def _requested(request: Request, connection: PlatformConnection, kind: str, dry_run: bool):
    if not dry_run and not connection.accepts_runs:
        raise Conflict(
            f"The connection is {connection.status}: test it (POST .../test/) before running it."
        )
    run = platform_run_request(
        connection=connection,
        kind=kind,
        trigger=PlatformRun.Trigger.API,
        user=request.user,
        dry_run=dry_run,
    )
    data = PlatformRunSerializer(run).data
    if run.status == PlatformRun.Status.SKIPPED:
        return Response({"detail": run.error_summary, "run": data}, status=status.HTTP_409_CONFLICT)
    code = status.HTTP_200_OK if dry_run else status.HTTP_202_ACCEPTED
    return Response(data, status=code)


CONFLICT = OpenApiResponse(
    RunConflictSerializer, description="Not tested yet, or a run of this kind is already running."
)


class PlatformImportView(ApiView):
    """Import the platform's groups and users now (queued)."""

    @body_less(
        "Import the directory now (queued; follow it at .../runs/{id}/)",
        {202: PlatformRunSerializer, 409: CONFLICT},
    )
    def post(self, request: Request, slug: str) -> Response:
        connection = _connection(request, slug)
        return _requested(request, connection, PlatformRun.Kind.DIRECTORY, dry_run=False)


def _supported(connection: PlatformConnection, kind: str) -> None:
    if kind not in platform_run_kinds(connection.kind):
        label = PlatformRun.Kind(kind).label.lower()
        raise ValidationError(
            {"detail": f"{connection.get_kind_display()} connections have no {label}."}
        )


class _PlatformRunRequestView(ApiView):
    """Queue a run of `kind` (a kind the connection's platform has, else 400)."""

    kind = ""

    def post(self, request: Request, slug: str) -> Response:
        connection = _connection(request, slug)
        _supported(connection, self.kind)
        return _requested(request, connection, self.kind, dry_run=False)


RUN_REQUEST_RESPONSES = {202: PlatformRunSerializer, 400: ErrorSerializer, 409: CONFLICT}


PlatformCoursesImportView = post_action_view(
    "PlatformCoursesImportView",
    _PlatformRunRequestView,
    kind=PlatformRun.Kind.COURSES,
    summary="Import the platform's course list now (Coursebase; queued)",
    doc="Import the platform's course list now (queued), matched by title to the synced ones.",
    request=None,
    responses=RUN_REQUEST_RESPONSES,
)
PlatformReportsExportView = post_action_view(
    "PlatformReportsExportView",
    _PlatformRunRequestView,
    kind=PlatformRun.Kind.REPORTS,
    summary="Export the platform's reports now (Coursebase; queued)",
    doc="Export the platform's courses and learners reports now (queued).",
    request=None,
    responses=RUN_REQUEST_RESPONSES,
)


@extend_schema_view(
    get=extend_schema(summary="The platform's courses and their match to the synced ones")
)
class PlatformCourseListView(ApiListView):
    """The platform's courses (present in its last list), by title, with their match."""

    queryset = PlatformCourse.objects.none()
    serializer_class = PlatformCourseSerializer
    filterset_class = PlatformCourseFilter
    pagination_class = PageNumberPagination

    def get_queryset(self):
        connection = _connection(self.request, self.kwargs["slug"])
        return platform_course_list(connection=connection)


class PlatformPushView(ApiView):
    """Push the catalog and completions (LearnUpon); `dry_run` lists them, sends nothing."""

    @extend_schema(
        summary="Push now (queued), or dry run (answered at once with the plan)",
        request=PushRequestSerializer,
        responses={
            200: OpenApiResponse(PlatformRunSerializer, description="Dry run: the plan."),
            202: PlatformRunSerializer,
            400: refusal("This platform takes no push."),
            409: CONFLICT,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        connection = _connection(request, slug)
        body = PushRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not PLATFORMS[connection.kind].supports(Capability.PUSH):
            raise ValidationError(
                {"detail": f"{connection.get_kind_display()} connections can't receive a push."}
            )
        return _requested(
            request, connection, PlatformRun.Kind.PUSH, dry_run=body.validated_data["dry_run"]
        )


def _estimate_data(connection: PlatformConnection, estimate: Any) -> dict[str, Any]:
    return {
        "auto_enroll": connection.auto_enroll,
        "courses": estimate.courses,
        "members": estimate.members,
        "enrollments": estimate.enrollments,
        "confirmed": connection.auto_enroll_consent,
        "message": estimate.message,
    }


class PlatformAutoEnrollView(ApiView):
    """LearnUpon auto-enrollment: the dry run (GET) and the confirmed choice (POST)."""

    @extend_schema(
        summary="Dry run: how many enrollments linking the courses would create (reads only)",
        responses={200: EnrollmentEstimateSerializer, 409: ErrorSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        connection = _connection(request, slug)
        try:
            estimate = auto_enroll_preview(connection=connection)
        except (AutoEnrollNotConfirmed, PlatformApiError) as exc:
            raise Conflict(exc.message) from None
        return Response(_estimate_data(connection, estimate))

    @extend_schema(
        summary="Turn auto-enrollment on (with the confirmed count) or off (unlinks)",
        request=AutoEnrollRequestSerializer,
        responses={200: PlatformConnectionSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        connection = _connection(request, slug)
        body = AutoEnrollRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        try:
            if values["unlink_earlier"] and not values["enabled"]:
                auto_enroll_unlink_earlier(connection=connection, actor=request.user)
            auto_enroll_set(
                connection=connection,
                actor=request.user,
                enabled=values["enabled"],
                confirm_enrollments=values.get("confirm_enrollments"),
                re_enroll_completed=values["re_enroll_completed"],
            )
        except (AutoEnrollNotConfirmed, PlatformApiError) as exc:
            raise Conflict(exc.message) from None
        return Response(PlatformConnectionSerializer(connection).data)


@extend_schema_view(get=extend_schema(summary="Platform runs of the group, newest first"))
class PlatformRunListView(ApiListView):
    """The group's imports and pushes, newest first."""

    queryset = PlatformRun.objects.none()
    serializer_class = PlatformRunSerializer
    filterset_class = PlatformRunFilter
    pagination_class = PageNumberPagination

    def get_queryset(self):
        group = administered_group(self.request, self.kwargs["slug"])
        return platform_run_list_for_group(group=group)


class PlatformRunDetailView(ApiView):
    """One platform run with its first 200 errors."""

    @extend_schema(
        summary="A platform run",
        parameters=[RUN_ID],
        responses={200: PlatformRunDetailSerializer},
    )
    def get(self, request: Request, slug: str, id: int) -> Response:
        group = administered_group(request, slug)
        try:
            run = platform_run_get_for_group(group=group, run_id=id)
        except Http404:
            raise NotFound("No such run among your group's platform runs.") from None
        return Response(PlatformRunDetailSerializer(run).data)
