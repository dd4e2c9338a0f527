"""Settings → Integrations → Udemy of a group: configure, SETUP INTEGRATION, DEACTIVATE, sync."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.access import administered_group
from integrations.api.schema import body_less, refusal
from integrations.api.serializers import (
    IntegrationSerializer,
    ReviewDecisionSerializer,
    SyncConflictSerializer,
    SyncRequestSerializer,
    SyncRunSerializer,
)
from integrations.models import Integration, SyncRun
from integrations.selectors.integrations import integration_for_group
from integrations.services.content_review import (
    ReviewCountMismatch,
    ReviewWhileSyncing,
    held_discard,
    held_publish,
    missing_archive,
    missing_keep,
)
from integrations.services.setup import (
    integration_activate,
    integration_deactivate,
    integration_get_or_new,
    integration_save,
)
from integrations.services.sync import sync_request
from shared.api.errors import Conflict
from shared.api.schema import ErrorSerializer
from shared.api.views import ApiGenericView, ApiView, post_action_view

PROVIDER = "udemy"


def udemy_integration(request: Request, slug: str) -> Integration:
    """The group's Udemy integration, for an admin of the group; 404 before its settings exist."""
    group = administered_group(request, slug)
    integration = integration_for_group(group=group, provider=PROVIDER)
    if integration is None:
        raise NotFound(f"Udemy is not set up for group '{slug}' yet: PUT its settings first.")
    return integration


class UdemyIntegrationView(ApiGenericView):
    """The Udemy Business connection of a group. The client secret is write-only."""

    serializer_class = IntegrationSerializer

    def get_object(self) -> Integration:
        return udemy_integration(self.request, self.kwargs["slug"])

    @extend_schema(summary="The group's Udemy integration (the client secret is never returned)")
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Create or replace the Udemy settings",
        description="Created inactive; a blank or absent client_secret keeps the stored one. "
        "Activate with POST .../activate/. On an active integration (or one in error), changed "
        "credentials are verified with Udemy first: if Udemy refuses them, nothing is stored "
        "and the answer is 400 with Udemy's reason.",
        responses={200: IntegrationSerializer, 201: IntegrationSerializer},
    )
    def put(self, request: Request, slug: str) -> Response:
        group = administered_group(request, slug)
        integration = integration_get_or_new(group=group, provider=PROVIDER)
        created = integration.pk is None
        self._save(request, integration)
        return Response(
            self.get_serializer(integration).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(summary="Change some Udemy settings (changed credentials are verified first)")
    def patch(self, request: Request, slug: str) -> Response:
        integration = self._save(request, self.get_object(), partial=True)
        return Response(self.get_serializer(integration).data)

    def _save(
        self, request: Request, integration: Integration, partial: bool = False
    ) -> Integration:
        stored = integration if integration.pk else None  # validate() reads the stored values
        serializer = self.get_serializer(stored, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        result = integration_save(
            integration=integration, actor=request.user, data=serializer.validated_data
        )
        if not result.ok:
            raise ValidationError({"detail": result.message})
        return integration


class UdemyActivateView(ApiView):
    """SETUP INTEGRATION: one call to Udemy checks the credentials; if it fails, nothing
    is activated."""

    @body_less(
        "SETUP INTEGRATION: check the credentials with Udemy, then activate",
        {200: IntegrationSerializer, 400: refusal("Udemy refused: nothing activated.")},
    )
    def post(self, request: Request, slug: str) -> Response:
        result = integration_activate(
            integration=udemy_integration(request, slug), actor=request.user
        )
        if not result.ok:
            raise ValidationError({"detail": result.message})
        return Response(IntegrationSerializer(result.integration).data)


class UdemyDeactivateView(ApiView):
    """DEACTIVATE: the daily syncs stop and queued runs are skipped."""

    @body_less(
        "DEACTIVATE: stop the daily syncs (catalog and statistics are kept)",
        {200: IntegrationSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        integration = integration_deactivate(
            integration=udemy_integration(request, slug), actor=request.user
        )
        return Response(IntegrationSerializer(integration).data)


class UdemySyncView(ApiView):
    """Queue a content or statistics sync; one run of a kind at a time per integration."""

    @extend_schema(
        summary="Request a sync now (queued; follow it at /api/v1/sync-runs/{id}/)",
        request=SyncRequestSerializer,
        responses={
            202: SyncRunSerializer,
            409: OpenApiResponse(
                SyncConflictSerializer,
                description="Not active, or a sync of this kind is already running.",
            ),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        integration = udemy_integration(request, slug)
        body = SyncRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not integration.accepts_runs:
            raise Conflict(
                f"The integration is {integration.status}: activate it before requesting a sync."
            )
        run = sync_request(
            integration=integration,
            kind=body.validated_data["kind"],
            trigger=SyncRun.Trigger.API,
            user=request.user,
        )
        data = SyncRunSerializer(run).data
        if run.status == SyncRun.Status.SKIPPED:
            detail = run.error_summary or f"A {run.kind} sync is already running."
            return Response({"detail": detail, "run": data}, status=status.HTTP_409_CONFLICT)
        return Response(data, status=status.HTTP_202_ACCEPTED)


class _ReviewDecisionView(ApiView):
    """A decision on catalog changes a content sync held for review (confirmed by number)."""

    result_key = ""
    decide = staticmethod(lambda **kwargs: 0)

    def post(self, request: Request, slug: str) -> Response:
        integration = udemy_integration(request, slug)
        body = ReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = _decided(
            self.decide,
            integration=integration,
            actor=request.user,
            count=body.validated_data["count"],
        )
        return Response({self.result_key: done})


def _decided(decide: Callable[..., int], **kwargs: Any) -> int:
    """A review decision taken: a count that is not the pending number is a 400 like any
    invalid field ({"count": [...]}), a content sync running meanwhile a 409."""
    try:
        return decide(**kwargs)
    except ReviewCountMismatch as exc:
        raise ValidationError({"count": [str(exc)]}) from None
    except ReviewWhileSyncing as exc:
        raise Conflict(str(exc)) from None


# A count that is not the pending number is a 400 like any invalid field ({"count": [...]}).
_REVIEW_RESPONSES = {
    409: OpenApiResponse(ErrorSerializer, description="A content sync is running."),
}


def _decision_view(name: str, decide, result_key: str, summary: str) -> type:
    """A review decision's view: POST {"count": N} → {result_key: N}."""
    return post_action_view(
        name,
        _ReviewDecisionView,
        result_key=result_key,
        decide=staticmethod(decide),
        summary=summary,
        doc=summary + ".",
        request=ReviewDecisionSerializer,
        responses={
            200: OpenApiResponse(description=f'{{"{result_key}": N}}'),
            **_REVIEW_RESPONSES,
        },
    )


UdemyArchiveAbsentView = _decision_view(
    "UdemyArchiveAbsentView",
    missing_archive,
    "archived",
    "Archive the courses no longer on Udemy (confirm their number: health.content.cleanup_pending)",
)
UdemyPublishHeldView = _decision_view(
    "UdemyPublishHeldView",
    held_publish,
    "published",
    "Publish the new items held for review (confirm their number: health.content.held_new)",
)
UdemyDiscardHeldView = _decision_view(
    "UdemyDiscardHeldView",
    held_discard,
    "discarded",
    "Discard the new items held for review (hidden while Udemy lists them; confirm their number)",
)


class UdemyKeepAbsentView(ApiView):
    """Keep the courses no longer on Udemy until the next complete scan decides again."""

    @body_less(
        "Keep the courses no longer on Udemy, until the next scan",
        {200: OpenApiResponse(description='{"kept": N}'), **_REVIEW_RESPONSES},
        description='Optional body {"count": N}: then N must be the pending number.',
    )
    def post(self, request: Request, slug: str) -> Response:
        count = request.data.get("count") if hasattr(request.data, "get") else None
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise ValidationError({"count": ["A whole number: the pending number."]})
        kept = _decided(
            missing_keep,
            integration=udemy_integration(request, slug),
            actor=request.user,
            count=count,
        )
        return Response({"kept": kept})
