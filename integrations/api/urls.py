"""REST API v1 of the integrations: Udemy integration, sync runs and platform connections."""

from django.urls import path

from integrations.api import alerts, integrations, platforms, runs, xapi

udemy = "groups/<slug:slug>/integrations/udemy/"
platform = "groups/<slug:slug>/platform/"

urlpatterns = [
    path(udemy, integrations.UdemyIntegrationView.as_view(), name="udemy"),
    path(f"{udemy}activate/", integrations.UdemyActivateView.as_view(), name="udemy-activate"),
    path(
        f"{udemy}deactivate/", integrations.UdemyDeactivateView.as_view(), name="udemy-deactivate"
    ),
    path(f"{udemy}sync/", integrations.UdemySyncView.as_view(), name="udemy-sync"),
    path(f"{udemy}alerts/", alerts.UdemyAlertsView.as_view(), name="udemy-alerts"),
    path(
        f"{udemy}archive-absent/",
        integrations.UdemyArchiveAbsentView.as_view(),
        name="udemy-archive-absent",
    ),
    path(
        f"{udemy}keep-absent/", integrations.UdemyKeepAbsentView.as_view(), name="udemy-keep-absent"
    ),
    path(
        f"{udemy}publish-held/",
        integrations.UdemyPublishHeldView.as_view(),
        name="udemy-publish-held",
    ),
    path(
        f"{udemy}discard-held/",
        integrations.UdemyDiscardHeldView.as_view(),
        name="udemy-discard-held",
    ),
    path(f"{udemy}xapi/", xapi.UdemyXapiStatusView.as_view(), name="udemy-xapi"),
    path(
        f"{udemy}xapi/credentials/",
        xapi.UdemyXapiCredentialsView.as_view(),
        name="udemy-xapi-credentials",
    ),
    path("sync-runs/", runs.SyncRunListView.as_view(), name="syncrun-list"),
    path("sync-runs/<int:id>/", runs.SyncRunDetailView.as_view(), name="syncrun-detail"),
    path("sync-runs/<int:id>/errors/", runs.SyncRunErrorListView.as_view(), name="syncrun-errors"),
]

platform_urlpatterns = [
    path(platform, platforms.PlatformConnectionView.as_view(), name="connection"),
    path(f"{platform}test/", platforms.PlatformTestView.as_view(), name="test"),
    path(f"{platform}import/", platforms.PlatformImportView.as_view(), name="import"),
    path(f"{platform}push/", platforms.PlatformPushView.as_view(), name="push"),
    path(f"{platform}courses/", platforms.PlatformCourseListView.as_view(), name="courses"),
    path(
        f"{platform}courses/import/",
        platforms.PlatformCoursesImportView.as_view(),
        name="courses_import",
    ),
    path(
        f"{platform}reports/export/",
        platforms.PlatformReportsExportView.as_view(),
        name="reports_export",
    ),
    path(
        f"{platform}auto-enrollment/",
        platforms.PlatformAutoEnrollView.as_view(),
        name="auto_enrollment",
    ),
    path(f"{platform}runs/", platforms.PlatformRunListView.as_view(), name="runs"),
    path(f"{platform}runs/<int:id>/", platforms.PlatformRunDetailView.as_view(), name="run"),
]
