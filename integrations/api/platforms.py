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
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.connectors.connection_settings import SECRET, connection_errors
from integrations.connectors.platforms import PLATFORM_CHOICES, PLATFORMS, platform_run_kinds
from integrations.filters import PlatformCourseFilter, PlatformRunFilter
from integrations.models import PlatformConnection, PlatformCourse, PlatformError, PlatformRun
from integrations.platforms.base import PlatformApiError
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
from lmsbridge.api.errors import Conflict
from lmsbridge.api.fields import (
    StrictBooleanField,
    StrictCharField,
    UtcDateTimeField,
    counts_serializer,
    secret_field,
)
from lmsbridge.api.schema import ErrorSerializer
from lmsbridge.api.views import ApiGenericView, ApiListView, ApiView
from lmsbridge.catalog.api.access import administered_group

# --------------------------------------------------------------------------- serializers


RUN_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Run id.")


class AutoEnrollConsentSerializer(serializers.Serializer):
    enrollments = serializers.IntegerField(source="auto_enroll_consent")
    courses = serializers.IntegerField(source="auto_enroll_consent_courses", allow_null=True)
    members = serializers.IntegerField(source="auto_enroll_consent_members", allow_null=True)
    confirmed_by = serializers.CharField(
        source="auto_enroll_consent_by.username", default=None, allow_null=True
    )
    confirmed_at = UtcDateTimeField(source="auto_enroll_consent_at", allow_null=True)


class AutoEnrollWaitingSerializer(serializers.Serializer):
    courses = serializers.IntegerField()
    members = serializers.IntegerField(allow_null=True)
    enrollments = serializers.IntegerField(allow_null=True, help_text="Confirm this number.")
    confirmed = serializers.IntegerField(allow_null=True)
    run = serializers.IntegerField(allow_null=True, help_text="The push that waited.")
    message = serializers.CharField()


class PlatformConnectionSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(
        source="kind", choices=PLATFORM_CHOICES, help_text="learnupon or coursebase."
    )
    learnupon_portal = StrictCharField(max_length=63, allow_blank=True, default="")
    learnupon_username = StrictCharField(max_length=200, allow_blank=True, default="")
    learnupon_password = secret_field("password")
    learnupon_password_set = serializers.SerializerMethodField()
    learnupon_owner_id = StrictCharField(
        max_length=20, allow_blank=True, default="", help_text="Numeric LearnUpon user id."
    )
    target_group_id = StrictCharField(
        max_length=20, allow_blank=True, default="", help_text="Numeric LearnUpon group id."
    )
    learnupon_cataloged = StrictBooleanField(
        allow_null=True,
        default=None,
        help_text="LearnUpon: true lists pushed courses in the portal catalog, where every user "
        "of the portal sees them (even when the target group is private); false does not. "
        "Required for a new LearnUpon connection (no default); absent or null keeps the stored "
        "choice.",
    )
    coursebase_domain = StrictCharField(max_length=253, allow_blank=True, default="")
    coursebase_token = secret_field("token")
    coursebase_token_set = serializers.SerializerMethodField()
    base_url = StrictCharField(
        max_length=300,
        allow_blank=True,
        default="",
        help_text="Optional override; allow-listed hosts only (PLATFORM_ALLOWED_HOSTS).",
    )
    push_after_sync = StrictBooleanField(default=True)
    udemy_stats_from_report = StrictBooleanField(
        default=False,
        help_text="Coursebase: the group's Udemy statistics sync reads Coursebase's "
        "udemy_user_course_activity report instead of the Udemy API.",
    )
    auto_enroll = serializers.BooleanField(
        read_only=True,
        help_text="LearnUpon: pushed courses are linked to the target group, which enrolls its "
        "members. Changed through .../auto-enrollment/ only (confirmed count).",
    )
    re_enroll_completed = serializers.BooleanField(read_only=True)
    auto_enroll_consent = serializers.SerializerMethodField(
        help_text="LearnUpon: the number of enrollments (courses × members) an admin confirmed, "
        "who and when; null when none. A push links courses only within it."
    )
    auto_enroll_waiting = serializers.SerializerMethodField(
        help_text="LearnUpon: what the last push could not link without a new confirmation "
        "(courses, members, enrollments, confirmed, run, message); null when nothing waits. "
        "Confirm through .../auto-enrollment/."
    )
    status = serializers.ChoiceField(choices=PlatformConnection.Status.choices, read_only=True)
    status_message = serializers.CharField(read_only=True)
    last_tested_at = UtcDateTimeField(read_only=True, allow_null=True)
    last_import_at = UtcDateTimeField(read_only=True, allow_null=True)
    last_push_at = UtcDateTimeField(read_only=True, allow_null=True)
    last_courses_at = UtcDateTimeField(read_only=True, allow_null=True)
    last_reports_at = UtcDateTimeField(read_only=True, allow_null=True)

    def get_learnupon_password_set(self, connection: PlatformConnection) -> bool:
        return bool(connection.learnupon_password)

    def get_coursebase_token_set(self, connection: PlatformConnection) -> bool:
        return bool(connection.coursebase_token)

    @extend_schema_field(AutoEnrollConsentSerializer(allow_null=True))
    def get_auto_enroll_consent(self, connection: PlatformConnection) -> dict | None:
        if connection.auto_enroll_consent is None:
            return None
        return AutoEnrollConsentSerializer(connection).data

    @extend_schema_field(AutoEnrollWaitingSerializer(allow_null=True))
    def get_auto_enroll_waiting(self, connection: PlatformConnection) -> dict | None:
        waiting = connection.auto_enroll_waiting or {}
        return AutoEnrollWaitingSerializer(waiting).data if waiting else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        stored = self.instance
        kind = attrs["kind"]
        has_secret = bool(stored and stored.pk and getattr(stored, SECRET[kind]))
        chosen = bool(stored and stored.pk and stored.learnupon_cataloged is not None)
        errors = connection_errors(attrs, stored_secret=has_secret, stored_cataloged=chosen)
        if "kind" in errors:
            errors["platform"] = errors.pop("kind")
        if errors:
            raise ValidationError(errors)
        return attrs


class CredentialCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    verdict = serializers.CharField(help_text="ok, bad_credentials, not_found, unreachable...")
    message = serializers.CharField()
    connection = PlatformConnectionSerializer()


PlatformRunCountsSerializer = counts_serializer("PlatformRunCountsSerializer", PlatformRun.COUNTERS)


class PlatformRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    group = serializers.CharField(source="connection.group.slug")
    platform = serializers.ChoiceField(source="connection.kind", choices=PLATFORM_CHOICES)
    operation = serializers.ChoiceField(
        source="kind",
        choices=PlatformRun.Kind.choices,
        help_text="directory import, push, course list import or report export.",
    )
    trigger = serializers.ChoiceField(choices=PlatformRun.Trigger.choices)
    status = serializers.ChoiceField(choices=PlatformRun.Status.choices)
    dry_run = serializers.BooleanField()
    created_at = UtcDateTimeField()
    started_at = UtcDateTimeField(allow_null=True)
    finished_at = UtcDateTimeField(allow_null=True)
    counts = PlatformRunCountsSerializer(source="*")
    waited_seconds = serializers.FloatField(help_text="Time the platform's rate limits cost.")
    details = serializers.DictField(help_text="Counts per stream (groups, users, courses...).")
    plan = serializers.ListField(
        child=serializers.DictField(), help_text="Dry run: what a push would send."
    )
    errors_count = serializers.SerializerMethodField()
    error_summary = serializers.CharField()

    def get_errors_count(self, run: PlatformRun) -> int:
        count = getattr(run, "errors_count", None)
        return run.errors.count() if count is None else count


class PlatformErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlatformError
        fields = ["external_id", "category", "message"]


class PlatformRunDetailSerializer(serializers.Serializer):
    run = PlatformRunSerializer(source="*")
    errors = serializers.SerializerMethodField(help_text="The first 200 errors of the run.")

    @extend_schema_field(PlatformErrorSerializer(many=True))
    def get_errors(self, run: PlatformRun) -> list[dict]:
        return PlatformErrorSerializer(run.errors.all()[:200], many=True).data


class PushRequestSerializer(serializers.Serializer):
    dry_run = StrictBooleanField(default=False, help_text="List what would be sent; send nothing.")


class EnrollmentEstimateSerializer(serializers.Serializer):
    auto_enroll = serializers.BooleanField()
    courses = serializers.IntegerField(
        help_text="Courses linked to the target group once a push has run (every active one)."
    )
    members = serializers.IntegerField(help_text="Members of the LearnUpon target group.")
    enrollments = serializers.IntegerField(help_text="courses × members: confirm this number.")
    confirmed = serializers.IntegerField(
        allow_null=True, help_text="The number confirmed so far (null: none)."
    )
    message = serializers.CharField()


class AutoEnrollRequestSerializer(serializers.Serializer):
    enabled = StrictBooleanField(help_text="Link the courses to the target group (or unlink).")
    confirm_enrollments = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="Turning on: the enrollment count of the dry run (GET), repeated.",
    )
    re_enroll_completed = StrictBooleanField(default=False)
    unlink_earlier = StrictBooleanField(
        default=False, help_text="Off: also undo links made by earlier versions."
    )


class RunConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    run = PlatformRunSerializer(required=False)


# --------------------------------------------------------------------------- views


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

    @extend_schema(
        summary="Test the connection (activates it when the platform accepts it)",
        request=None,
        responses={200: CredentialCheckSerializer},
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

    @extend_schema(
        summary="Import the directory now (queued; follow it at .../runs/{id}/)",
        request=None,
        responses={202: PlatformRunSerializer, 409: CONFLICT},
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


@extend_schema_view(
    post=extend_schema(
        summary="Import the platform's course list now (Coursebase; queued)",
        request=None,
        responses=RUN_REQUEST_RESPONSES,
    )
)
class PlatformCoursesImportView(_PlatformRunRequestView):
    """Import the platform's course list now (queued), matched by title to the synced ones."""

    kind = PlatformRun.Kind.COURSES


@extend_schema_view(
    post=extend_schema(
        summary="Export the platform's reports now (Coursebase; queued)",
        request=None,
        responses=RUN_REQUEST_RESPONSES,
    )
)
class PlatformReportsExportView(_PlatformRunRequestView):
    """Export the platform's courses and learners reports now (queued)."""

    kind = PlatformRun.Kind.REPORTS


class PlatformCourseSerializer(serializers.ModelSerializer):
    course = serializers.SerializerMethodField(help_text="The matched synced course, or null.")

    class Meta:
        model = PlatformCourse
        fields = ["remote_id", "title", "match", "course", "learners", "completed",
                  "completion_rate", "report_updated_at"]  # fmt: skip

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_course(self, row: PlatformCourse) -> dict | None:
        if row.course is None:
            return None
        return {"id": row.course.pk, "externalId": row.course.platform_external_id,
                "title": row.course.title}  # fmt: skip


class PlatformCourseListView(ApiListView):
    """The platform's courses (present in its last list), by title, with their match."""

    queryset = PlatformCourse.objects.none()
    serializer_class = PlatformCourseSerializer
    filterset_class = PlatformCourseFilter
    pagination_class = PageNumberPagination

    def get_queryset(self):
        connection = _connection(self.request, self.kwargs["slug"])
        return platform_course_list(connection=connection)

    @extend_schema(summary="The platform's courses and their match to the synced ones")
    def get(self, request: Request, slug: str) -> Response:
        return self.list(request)


class PlatformPushView(ApiView):
    """Push the catalog and completions (LearnUpon); `dry_run` lists them, sends nothing."""

    @extend_schema(
        summary="Push now (queued), or dry run (answered at once with the plan)",
        request=PushRequestSerializer,
        responses={
            200: OpenApiResponse(PlatformRunSerializer, description="Dry run: the plan."),
            202: PlatformRunSerializer,
            400: OpenApiResponse(ErrorSerializer, description="This platform takes no push."),
            409: CONFLICT,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        connection = _connection(request, slug)
        body = PushRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not PLATFORMS[connection.kind].push:
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


class PlatformRunListView(ApiListView):
    """The group's imports and pushes, newest first."""

    queryset = PlatformRun.objects.none()
    serializer_class = PlatformRunSerializer
    filterset_class = PlatformRunFilter
    pagination_class = PageNumberPagination

    def get_queryset(self):
        group = administered_group(self.request, self.kwargs["slug"])
        return platform_run_list_for_group(group=group)

    @extend_schema(
        summary="Platform runs of the group, newest first",
        responses=PlatformRunSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.list(request)


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
