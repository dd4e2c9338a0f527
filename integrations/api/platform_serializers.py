"""Serializers of the learning-platform API (`integrations.api.platforms`): the connection with
its write-only secrets, runs and their errors, platform courses, and the bodies of the actions
(push, auto-enrollment)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from integrations.connectors.connection_settings import SECRET, connection_errors
from integrations.connectors.platforms import PLATFORM_CHOICES
from integrations.models import PlatformConnection, PlatformCourse, PlatformError, PlatformRun
from shared.api.fields import (
    StrictBooleanField,
    StrictCharField,
    UtcDateTimeField,
    counts_serializer,
    secret_field,
)


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
