"""The sync history: runs of the integrations of the groups the user administers."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api.serializers import SyncErrorSerializer, SyncRunSerializer
from integrations.filters import SyncRunFilter
from integrations.models import SyncError, SyncRun
from integrations.selectors.integrations import (
    sync_error_list,
    sync_run_get_for_user,
    sync_run_list_for_user,
)
from shared.api.views import ApiGenericView, ApiListView

RUN_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Run id.")


def _run(request: Request, run_id: int) -> SyncRun:
    run = sync_run_get_for_user(user=request.user, run_id=run_id)
    if run is None:
        raise NotFound(f"No sync run {run_id} among the runs of the groups you administer.")
    return run


@extend_schema_view(get=extend_schema(summary="Sync runs, newest first"))
class SyncRunListView(ApiListView):
    """The sync history of the integrations of the groups you administer."""

    queryset = SyncRun.objects.none()
    serializer_class = SyncRunSerializer
    filterset_class = SyncRunFilter

    def get_queryset(self) -> QuerySet[SyncRun]:
        return sync_run_list_for_user(user=self.request.user)


class SyncRunDetailView(ApiGenericView):
    """One sync run with its counts, progress and archival decision."""

    serializer_class = SyncRunSerializer

    @extend_schema(summary="One sync run", parameters=[RUN_ID])
    def get(self, request: Request, id: int) -> Response:
        return Response(self.get_serializer(_run(request, id)).data)


class SyncRunErrorListView(ApiGenericView):
    """The items a run could not process, with the reason."""

    serializer_class = SyncErrorSerializer

    def get_queryset(self) -> QuerySet[SyncError]:
        return sync_error_list(run=_run(self.request, self.kwargs["id"]))

    @extend_schema(
        summary="The errors of a run (one per bad item)",
        parameters=[RUN_ID],
        responses=SyncErrorSerializer(many=True),
    )
    def get(self, request: Request, id: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
