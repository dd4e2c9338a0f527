"""Learners of the groups the user administers."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from lmsbridge.api.views import ApiGenericView, validated_query
from lmsbridge.catalog.api.access import CanCreateInAdministeredGroups, administered_group
from lmsbridge.catalog.api.serializers import (
    LearnerCreateSerializer,
    LearnerFilterSerializer,
    LearnerSerializer,
)
from lmsbridge.catalog.models import Learner
from lmsbridge.catalog.selectors import learner_list_for_user
from lmsbridge.catalog.services import LearnerEmailTaken, learner_create


class LearnerListView(ApiGenericView):
    """Learners of the groups you administer; `groups` lists only those groups."""

    permission_classes = [IsAuthenticated, CanCreateInAdministeredGroups]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.request is not None and self.request.method == "POST":
            return LearnerCreateSerializer
        return LearnerSerializer

    def get_queryset(self) -> QuerySet[Learner]:
        filters = validated_query(LearnerFilterSerializer, self.request)
        group = administered_group(self.request, filters["group"]) if "group" in filters else None
        learners = learner_list_for_user(user=self.request.user, group=group)
        if filters.get("email"):
            learners = learners.filter(email__iexact=filters["email"])
        return learners

    @extend_schema(
        summary="Learners of the groups you administer (all for superusers)",
        parameters=[LearnerFilterSerializer],
        responses=LearnerSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LearnerSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a learner in groups you administer",
        request=LearnerCreateSerializer,
        responses={201: LearnerSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = LearnerCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            learner = learner_create(**serializer.validated_data)
        except LearnerEmailTaken:  # lost a race with an identical request
            raise serializers.ValidationError(
                {"email": ["A learner with this email already exists."]}
            ) from None
        learner = learner_list_for_user(user=request.user).get(pk=learner.pk)
        return Response(LearnerSerializer(learner).data, status=status.HTTP_201_CREATED)
