"""REST API v1 of the integrations: Udemy integration, sync runs and platform connections."""

from django.urls import URLPattern, path

from integrations.api import alerts, integrations, platforms, runs, xapi


def _under(prefix: str, routes: list[tuple[str, type, str]]) -> list[URLPattern]:
    """One route per (path below `prefix`, API view, route name), in that order."""
    return [path(prefix + below, view.as_view(), name=name) for below, view, name in routes]


def _named_by_path(provider: str, routes: dict[str, type]) -> list[tuple[str, type, str]]:
    """A provider's routes, each named after its path: `<provider>` for its root,
    `<provider>-<path with dashes>` below it (`xapi/credentials/`: `udemy-xapi-credentials`)."""
    return [
        (below, view, "-".join([provider, *filter(None, below.split("/"))]))
        for below, view in routes.items()
    ]


urlpatterns = [
    *_under(
        "groups/<slug:slug>/integrations/udemy/",
        _named_by_path(
            "udemy",
            {
                "": integrations.UdemyIntegrationView,
                "activate/": integrations.UdemyActivateView,
                "deactivate/": integrations.UdemyDeactivateView,
                "sync/": integrations.UdemySyncView,
                "alerts/": alerts.UdemyAlertsView,
                "archive-absent/": integrations.UdemyArchiveAbsentView,
                "keep-absent/": integrations.UdemyKeepAbsentView,
                "publish-held/": integrations.UdemyPublishHeldView,
                "discard-held/": integrations.UdemyDiscardHeldView,
                "xapi/": xapi.UdemyXapiStatusView,
                "xapi/credentials/": xapi.UdemyXapiCredentialsView,
            },
        ),
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
