"""REST API v1 (mounted at /api/v1/ by lmsbridge/urls.py)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from .errors import api_not_found
from .views import catalog, docs, groups, integrations, learners, runs

app_name = "api"

udemy = "groups/<slug:slug>/integrations/udemy/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
    path("groups/", groups.GroupListView.as_view(), name="group-list"),
    path("groups/<slug:slug>/", groups.GroupDetailView.as_view(), name="group-detail"),
    path(udemy, integrations.UdemyIntegrationView.as_view(), name="udemy"),
    path(f"{udemy}activate/", integrations.UdemyActivateView.as_view(), name="udemy-activate"),
    path(
        f"{udemy}deactivate/", integrations.UdemyDeactivateView.as_view(), name="udemy-deactivate"
    ),
    path(f"{udemy}sync/", integrations.UdemySyncView.as_view(), name="udemy-sync"),
    path("groups/<slug:slug>/courses/", catalog.GroupCourseListView.as_view(), name="courses"),
    path("groups/<slug:slug>/stats/", catalog.GroupStatisticListView.as_view(), name="stats"),
    path("learners/", learners.LearnerListView.as_view(), name="learner-list"),
    path("sync-runs/", runs.SyncRunListView.as_view(), name="syncrun-list"),
    path("sync-runs/<int:id>/", runs.SyncRunDetailView.as_view(), name="syncrun-detail"),
    path("sync-runs/<int:id>/errors/", runs.SyncRunErrorListView.as_view(), name="syncrun-errors"),
    # Last: any other URL under /api/v1/ answers a JSON 404, not Django's HTML page.
    re_path(r"^(?P<path>[\s\S]*)$", api_not_found),  # [\s\S]: a newline in the path too
]
