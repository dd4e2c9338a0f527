"""Groups: the tree of the platform, as far as the user administers it."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.access import CanCreateInAdministeredGroups, administered_group
from catalog.api.serializers import GroupSerializer
from catalog.models import Group
from catalog.selectors import group_list_for_api
from catalog.services import group_create, group_update
from shared.api.views import ApiGenericView


class GroupListView(ApiGenericView):
    """The groups the API reveals to you: those you administer (every group for a superuser)."""

    serializer_class = GroupSerializer
    permission_classes = [IsAuthenticated, CanCreateInAdministeredGroups]

    def get_queryset(self) -> QuerySet[Group]:
        return group_list_for_api(user=self.request.user)

    @extend_schema(
        summary="Groups you administer (all for superusers)",
        responses=GroupSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Create a group",
        description="Superusers anywhere; group admins only below a group they administer.",
        responses={201: GroupSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group = group_create(**serializer.validated_data)
        return Response(self.get_serializer(group).data, status=status.HTTP_201_CREATED)


class GroupDetailView(ApiGenericView):
    """One group you administer; any other slug answers 404."""

    serializer_class = GroupSerializer

    def get_object(self) -> Group:
        return administered_group(self.request, self.kwargs["slug"])

    @extend_schema(summary="A group you administer")
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(summary="Rename, move or publish a group (the slug can't change)")
    def patch(self, request: Request, slug: str) -> Response:
        group = self.get_object()
        serializer = self.get_serializer(group, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        group_update(group=group, data=serializer.validated_data)
        return Response(self.get_serializer(group).data)
