"""API input and output of the integrations: the Udemy integration, sync runs and their errors.
Validation lives here; writes happen in the services the views call."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.core.concurrency import MAX_CONCURRENCY
from integrations.models import Integration, SyncError, SyncRun
from integrations.providers.udemy.settings import settings_errors
from integrations.selectors.health import integration_health
from shared.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    UtcDateTimeField,
    counts_serializer,
    secret_field,
)

NOT_YOUR_GROUP = "No group '{value}' among the groups you administer."
TOP_LEVEL_FOR_SUPERUSERS = (
    "Choose a parent group you administer: only superusers create or move groups at the top level."
)


# --------------------------------------------------------------------------- integrations

CONFIG_FIELDS = ("client_id", "organization_name", "organization_id", "api_base_url")


class LastRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SyncRun.Status.choices)
    finished_at = UtcDateTimeField(allow_null=True)


class KindHealthSerializer(serializers.Serializer):
    last_run = LastRunSerializer(
        allow_null=True, help_text="The last finished run of this kind (skipped ones aside)."
    )
    last_success_at = UtcDateTimeField(
        allow_null=True, help_text="When a run of this kind last went through."
    )
    next_run_at = serializers.DateTimeField(
        allow_null=True,
        default_timezone=ZoneInfo(settings.SYNC_SCHEDULE_TIMEZONE),
        help_text="The next scheduled run, in the schedule's time zone (null when inactive).",
    )
    stale = serializers.BooleanField(
        help_text="No run went through for SYNC_STALE_AFTER_HOURS (36 h by default)."
    )
    cleanup_pending = serializers.IntegerField(
        help_text="Content: published courses no longer on Udemy whose archival awaits a "
        "decision (POST .../archive-absent/ or .../keep-absent/). 0 for statistics."
    )
    held_new = serializers.IntegerField(
        help_text="Content: new items held, not shown to learners, until a decision "
        "(POST .../publish-held/ or .../discard-held/). 0 for statistics."
    )


class HealthSerializer(serializers.Serializer):
    content = KindHealthSerializer()
    stats = KindHealthSerializer()
    consecutive_failures = serializers.IntegerField(
        help_text="How many of the latest runs failed or timed out in a row."
    )
    stale = serializers.BooleanField()


class IntegrationSerializer(serializers.Serializer):
    client_id = StrictCharField(max_length=200)
    client_secret = secret_field("secret")
    client_secret_set = serializers.SerializerMethodField(
        help_text="Whether a client secret is stored (its value is never returned)."
    )
    organization_name = StrictCharField(max_length=100)
    organization_id = StrictCharField(max_length=50)
    api_base_url = StrictCharField(
        max_length=300,
        allow_blank=True,
        default="",
        help_text="Optional override of https://<organization_name>.udemy.com/...; "
        "allow-listed hosts only (UDEMY_ALLOWED_API_HOSTS).",
    )
    sync_tags = StrictBooleanField(default=False)
    sync_learning_paths = StrictBooleanField(default=False)
    page_concurrency = StrictIntegerField(
        min_value=1,
        max_value=MAX_CONCURRENCY,
        allow_null=True,
        default=None,
        help_text=f"Pages of one Udemy list requested at once (1 to {MAX_CONCURRENCY}); null: "
        "the server's UDEMY_PAGE_CONCURRENCY. Halved at once when Udemy answers 429.",
    )
    status = serializers.ChoiceField(choices=Integration.Status.choices, read_only=True)
    status_message = serializers.CharField(read_only=True)
    error_kind = serializers.ChoiceField(
        choices=Integration.ErrorKind.choices,
        read_only=True,
        help_text="Why it is in error: credentials, unavailable, bad_response ('' otherwise).",
    )
    last_content_sync = UtcDateTimeField(read_only=True, allow_null=True)
    last_stats_sync = UtcDateTimeField(read_only=True, allow_null=True)
    health = serializers.SerializerMethodField()

    @extend_schema_field(HealthSerializer)
    def get_health(self, integration: Integration) -> dict[str, Any] | None:
        if integration.pk is None:
            return None
        return HealthSerializer(integration_health(integration=integration)).data

    def get_client_secret_set(self, integration: Integration) -> bool:
        return bool(integration.client_secret)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        stored = self.instance
        if not attrs.get("client_secret") and not (stored and stored.client_secret):
            raise serializers.ValidationError(
                {"client_secret": ["Enter the client secret: none is stored yet."]}
            )
        config = {f: attrs.get(f, getattr(stored, f, "")) for f in CONFIG_FIELDS}
        errors = settings_errors(config)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SyncRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=SyncRun.Kind.choices, help_text="content (catalog) or stats (statistics)."
    )


# --------------------------------------------------------------------------- sync runs


SyncCountsSerializer = counts_serializer(
    "SyncCountsSerializer",
    (
        *("fetched", "created", "updated", "unchanged", "archived", "restored", "failed"),
        *("unmatched_learners", "anonymized", "not_started"),
    ),
)


class SyncProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(source="progress_done")
    total = serializers.IntegerField(
        source="progress_total", allow_null=True, help_text="Null until the first page is read."
    )


class SyncArchivalSerializer(serializers.Serializer):
    decision = serializers.CharField(source="archival_decision")
    reason = serializers.CharField(source="archival_reason")


class RunWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="cleanup_pending, new_held, ...")
    message = serializers.CharField()
    count = serializers.IntegerField(required=False, help_text="The items concerned, if any.")


class ReviewDecisionSerializer(serializers.Serializer):
    count = StrictIntegerField(
        min_value=0, help_text="The number of items you reviewed: it must be the pending number."
    )


class SyncRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(source="integration.group.slug", help_text="Group slug.")
    provider = serializers.CharField(source="integration.provider")
    kind = serializers.ChoiceField(choices=SyncRun.Kind.choices)
    trigger = serializers.ChoiceField(choices=SyncRun.Trigger.choices)
    status = serializers.ChoiceField(choices=SyncRun.Status.choices)
    created_at = UtcDateTimeField()
    started_at = UtcDateTimeField(allow_null=True)
    finished_at = UtcDateTimeField(allow_null=True)
    counts = SyncCountsSerializer(source="*")
    errors_count = serializers.SerializerMethodField()
    progress = SyncProgressSerializer(source="*")
    archival = SyncArchivalSerializer(source="*")
    warnings = RunWarningSerializer(
        many=True,
        help_text="What the run left for an admin to decide; a succeeded run with warnings "
        "reads 'Succeeded with warning' in the console.",
    )
    error_summary = serializers.CharField(help_text="Why the run failed or was skipped.")
    ratio_scale = serializers.ChoiceField(
        choices=SyncRun._meta.get_field("ratio_scale").choices,
        help_text="Statistics: the scale of the report's completion ratios, decided once per "
        "report from all of them ('' for content runs or a report of zeros only).",
    )

    def get_errors_count(self, run: SyncRun) -> int:
        # Annotated by the list selector; a run fresh from sync_request has not been.
        count = getattr(run, "errors_count", None)
        return run.errors.count() if count is None else count


class SyncConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    run = SyncRunSerializer(
        required=False, help_text="The skipped run, when another one is already running."
    )


class SyncErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncError
        fields = ["external_id", "category", "message"]
