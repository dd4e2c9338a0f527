"""Real-time statistics (xAPI) of a group's Udemy integration: the client credentials Udemy
Business uses to push statements, and the door's status. Group admins only."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api.integrations import udemy_integration
from integrations.api.schema import body_less, refusal
from integrations.services.xapi_credentials import (
    SCOPE,
    xapi_credentials_issue,
    xapi_credentials_revoke,
    xapi_status,
)
from shared.api.views import ApiView


class XapiCredentialsSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    client_secret = serializers.CharField(help_text="Shown in this answer only: store it now.")
    token_url = serializers.URLField()
    statements_url = serializers.URLField()
    scope = serializers.CharField()


class XapiCountsSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Stored and applied.")
    pending = serializers.IntegerField(help_text="Stored, not applied yet.")
    rejected = serializers.IntegerField()
    waiting = serializers.IntegerField(help_text="Waiting for a learner or a course.")


class XapiStatusSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    client_id = serializers.CharField(allow_blank=True)
    token_url = serializers.URLField()
    statements_url = serializers.URLField()
    scope = serializers.CharField()
    last_statement_at = serializers.DateTimeField(allow_null=True)
    counts = XapiCountsSerializer()


def xapi_urls(request: Request, integration_id: int) -> dict[str, str]:
    """The URLs to paste into Udemy Business (absolute, as this request reached the site)."""
    return {
        "token_url": request.build_absolute_uri(reverse("xapi:token")),
        "statements_url": request.build_absolute_uri(
            reverse("xapi:statements", kwargs={"integration_id": integration_id})
        ),
        "scope": SCOPE,
    }


class UdemyXapiStatusView(ApiView):
    """Whether Udemy Business may push xAPI statements, and what it pushed."""

    @extend_schema(
        summary="Real-time statistics (xAPI): status", responses={200: XapiStatusSerializer}
    )
    def get(self, request: Request, slug: str) -> Response:
        integration = udemy_integration(request, slug)
        found = xapi_status(integration=integration)
        counts = found.counts
        data = {
            "enabled": found.enabled,
            "client_id": found.client_id,
            "last_statement_at": found.last_statement_at,
            "counts": {
                "accepted": counts["applied"],
                "pending": counts["pending"],
                "rejected": counts["rejected"],
                "waiting": counts["waiting"],
            },
            **xapi_urls(request, integration.pk),
        }
        return Response(XapiStatusSerializer(data).data)


class UdemyXapiCredentialsView(ApiView):
    """The client credentials Udemy Business gets xAPI tokens with (OAuth 2.0 client
    credentials, scope xapi:write). POST again to rotate: the previous credentials and their
    tokens stop working at once."""

    @body_less("Generate (or rotate) the xAPI client credentials", {201: XapiCredentialsSerializer})
    def post(self, request: Request, slug: str) -> Response:
        integration = udemy_integration(request, slug)
        issued = xapi_credentials_issue(integration=integration, actor=request.user)
        data = {
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
            **xapi_urls(request, integration.pk),
        }
        response = Response(XapiCredentialsSerializer(data).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    @body_less(
        "Revoke the xAPI client credentials and their tokens",
        {204: None, 404: refusal("No credentials to revoke.")},
    )
    def delete(self, request: Request, slug: str) -> Response:
        integration = udemy_integration(request, slug)
        if not xapi_credentials_revoke(integration=integration, actor=request.user):
            return Response(
                {"detail": "No xAPI credentials to revoke."}, status=status.HTTP_404_NOT_FOUND
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
