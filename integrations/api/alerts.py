"""The signed-in admin's alert e-mails for a group's Udemy integration: on or off."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.access import administered_group
from integrations.services.alerts import alerts_enabled, alerts_set_enabled
from shared.api.fields import StrictBooleanField
from shared.api.views import ApiView


class AlertPreferenceSerializer(serializers.Serializer):
    enabled = StrictBooleanField(
        help_text="Whether you receive the alert e-mails of this group's integration."
    )


class UdemyAlertsView(ApiView):
    """Alert e-mails of the group's Udemy integration (entered Error, failed or partial syncs,
    stale data, recovered), for the signed-in admin."""

    @extend_schema(
        summary="Whether you receive this group's alert e-mails",
        responses={200: AlertPreferenceSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        group = administered_group(request, slug)
        return Response({"enabled": alerts_enabled(user=request.user, group=group)})

    @extend_schema(
        summary="Turn this group's alert e-mails on or off for yourself",
        request=AlertPreferenceSerializer,
        responses={200: AlertPreferenceSerializer},
    )
    def put(self, request: Request, slug: str) -> Response:
        group = administered_group(request, slug)
        serializer = AlertPreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enabled = serializer.validated_data["enabled"]
        alerts_set_enabled(user=request.user, group=group, enabled=enabled)
        return Response({"enabled": enabled})
