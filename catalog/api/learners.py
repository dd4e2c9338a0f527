"""Learners of the groups the user administers."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.access import CanCreateInAdministeredGroups
from catalog.api.serializers import (
    EMAIL_UNUSABLE,
    LearnerCreateSerializer,
    LearnerSerializer,
    email_refusal,
)
from catalog.filters import LearnerFilter
from catalog.models import Learner
from catalog.selectors import learner_list_for_user
from catalog.services import LearnerEmailTaken, learner_create
from shared.api.views import ApiListView


@extend_schema_view(
    get=extend_schema(summary="Learners of the groups you administer (all for superusers)")
)
class LearnerListView(ApiListView):
    """Learners of the groups you administer; `groups` lists only those groups."""

    queryset = Learner.objects.none()
    permission_classes = [IsAuthenticated, CanCreateInAdministeredGroups]
    filterset_class = LearnerFilter

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.request is not None and self.request.method == "POST":
            return LearnerCreateSerializer
        return LearnerSerializer

    def get_queryset(self) -> QuerySet[Learner]:
        return learner_list_for_user(user=self.request.user)

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
        except LearnerEmailTaken as exc:  # lost a race with an identical request
            email = str(exc)
            refusal = email_refusal(user=request.user, email=email) or EMAIL_UNUSABLE
            raise serializers.ValidationError({"email": [refusal]}) from None
        learner = learner_list_for_user(user=request.user).get(pk=learner.pk)
        return Response(LearnerSerializer(learner).data, status=status.HTTP_201_CREATED)
