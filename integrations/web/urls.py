"""Pages of one group (mounted at ``groups/<slug>/``): Settings → Integrations, sync history and
runs, and the group's catalog pages from `lmsbridge.catalog.urls.group_urlpatterns`."""

from django.urls import path

from integrations.web import alerts, platforms, xapi
from integrations.web import integrations as views
from lmsbridge.catalog.urls import group_urlpatterns

app_name = "integrations"

urlpatterns = [
    path("settings/integrations/", views.integration_list, name="settings"),
    path("settings/integrations/history/", views.run_history, name="history"),
    path("settings/integrations/runs/<int:run_id>/", views.run_detail, name="run"),
    path("settings/integrations/runs/<int:run_id>/close/", views.run_close_sync, name="run_close"),
    path(
        "settings/integrations/runs/<int:run_id>/progress/",
        views.run_progress,
        name="run_progress",
    ),
    path("settings/integrations/<slug:provider>/", views.integration_detail, name="provider"),
    path(
        "settings/integrations/<slug:provider>/deactivate/",
        views.integration_deactivate_confirm,
        name="deactivate",
    ),
    path("settings/integrations/<slug:provider>/alerts/", alerts.alerts_toggle, name="alerts"),
    path("settings/integrations/<slug:provider>/xapi/", xapi.xapi_credentials, name="xapi"),
    path("settings/integrations/<slug:provider>/review/", views.integration_review, name="review"),
    path(
        "settings/integrations/<slug:provider>/sync/<slug:kind>/",
        views.integration_sync,
        name="sync",
    ),
    *group_urlpatterns,
]

# Settings → Learning platform of a group (namespace "platforms", under
# ``groups/<slug>/settings/platform/``).
platform_urlpatterns = [
    path("", platforms.connection_detail, name="connection"),
    path("test/", platforms.connection_test_view, name="test"),
    path("runs/", platforms.run_list, name="runs"),
    path("runs/<int:run_id>/", platforms.run_detail, name="run"),
    path("runs/<int:run_id>/close/", platforms.run_close, name="run_close"),
    path("runs/<int:run_id>/progress/", platforms.run_progress, name="run_progress"),
    path("auto-enrollment/", platforms.auto_enroll, name="auto_enroll"),
    path("courses/list/", platforms.course_list, name="courses"),
    path("<slug:kind>/", platforms.run_request, name="request"),
]
