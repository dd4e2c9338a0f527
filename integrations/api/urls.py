"""REST API v1 of the integrations: Udemy integration, sync runs and platform connections."""

from django.urls import URLPattern, path

from integrations.api import alerts, integrations, platforms, runs, xapi


def _under(prefix: str, routes: list[tuple[str, type, str]]) -> list[URLPattern]:
    """One route per (path below `prefix`, API view, route name), in that order."""
    return [path(prefix + below, view.as_view(), name=name) for below, view, name in routes]


urlpatterns = [
    *_under(
        "groups/<slug:slug>/integrations/udemy/",
        [
            ("", integrations.UdemyIntegrationView, "udemy"),
            ("activate/", integrations.UdemyActivateView, "udemy-activate"),
            ("deactivate/", integrations.UdemyDeactivateView, "udemy-deactivate"),
            ("sync/", integrations.UdemySyncView, "udemy-sync"),
            ("alerts/", alerts.UdemyAlertsView, "udemy-alerts"),
            ("archive-absent/", integrations.UdemyArchiveAbsentView, "udemy-archive-absent"),
            ("keep-absent/", integrations.UdemyKeepAbsentView, "udemy-keep-absent"),
            ("publish-held/", integrations.UdemyPublishHeldView, "udemy-publish-held"),
            ("discard-held/", integrations.UdemyDiscardHeldView, "udemy-discard-held"),
            ("xapi/", xapi.UdemyXapiStatusView, "udemy-xapi"),
            ("xapi/credentials/", xapi.UdemyXapiCredentialsView, "udemy-xapi-credentials"),
        ],
    ),
    *_under(
        "sync-runs/",
        [
            ("", runs.SyncRunListView, "syncrun-list"),
            ("<int:id>/", runs.SyncRunDetailView, "syncrun-detail"),
            ("<int:id>/errors/", runs.SyncRunErrorListView, "syncrun-errors"),
        ],
    ),
]

platform_urlpatterns = _under(
    "groups/<slug:slug>/platform/",
    [
        ("", platforms.PlatformConnectionView, "connection"),
        ("test/", platforms.PlatformTestView, "test"),
        ("import/", platforms.PlatformImportView, "import"),
        ("push/", platforms.PlatformPushView, "push"),
        ("courses/", platforms.PlatformCourseListView, "courses"),
        ("courses/import/", platforms.PlatformCoursesImportView, "courses_import"),
        ("reports/export/", platforms.PlatformReportsExportView, "reports_export"),
        ("auto-enrollment/", platforms.PlatformAutoEnrollView, "auto_enrollment"),
        ("runs/", platforms.PlatformRunListView, "runs"),
        ("runs/<int:id>/", platforms.PlatformRunDetailView, "run"),
    ],
)
