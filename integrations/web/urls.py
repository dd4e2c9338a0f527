"""Pages of one group (mounted at ``groups/<slug>/``): Settings → Integrations, sync history and
runs, and Settings → Learning platform. The group's content pages are the catalog app's
(`catalog.urls`)."""

from collections.abc import Callable

from django.http import HttpResponse
from django.urls import URLResolver, include, path

from integrations.web import alerts, platforms, sync_times, xapi
from integrations.web import integrations as views

app_name = "integrations"

View = Callable[..., HttpResponse]


def run_urls(run_detail: View, run_progress: View, run_close: View) -> URLResolver:
    """A run's page, its polled live part and its closing (`run_pages.run_views`), below
    ``runs/<run_id>/``."""
    return path(
        "runs/<int:run_id>/",
        include(
            [
                path("", run_detail, name="run"),
                path("close/", run_close, name="run_close"),
                path("progress/", run_progress, name="run_progress"),
            ]
        ),
    )


# One provider's pages, below ``<provider>/``.
provider_urlpatterns = [
    path("", views.integration_detail, name="provider"),
    path("deactivate/", views.integration_deactivate_confirm, name="deactivate"),
    path("alerts/", alerts.alerts_toggle, name="alerts"),
    path("xapi/", xapi.xapi_credentials, name="xapi"),
    path("review/", views.integration_review, name="review"),
    path("times/", sync_times.sync_times_edit, name="sync_times"),
    path("check/", views.integration_check, name="check"),
    path("sync/<slug:kind>/", views.integration_sync, name="sync"),
]

# Settings → Integrations: the list, the sync history and runs, one provider's pages.
settings_urlpatterns = [
    path("", views.integration_list, name="settings"),
    path("history/", views.run_history, name="history"),
    run_urls(views.run_detail, views.run_progress, views.run_close_sync),
    path("<slug:provider>/", include(provider_urlpatterns)),
]

urlpatterns = [
    path("settings/integrations/", include(settings_urlpatterns)),
]

# Settings → Learning platform of a group (namespace "platforms", under
# ``groups/<slug>/settings/platform/``).
platform_urlpatterns = [
    path("", platforms.connection_detail, name="connection"),
    path("test/", platforms.connection_test_view, name="test"),
    path("runs/", platforms.run_list, name="runs"),
    run_urls(platforms.run_detail, platforms.run_progress, platforms.run_close),
    path("auto-enrollment/", platforms.auto_enroll, name="auto_enroll"),
    path("courses/list/", platforms.course_list, name="courses"),
    path("<slug:kind>/", platforms.run_request, name="request"),
]
