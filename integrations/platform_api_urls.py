"""Platform connection endpoints. The lead includes them under /api/v1/ *before* the API's
catch-all: ``path("api/v1/", include("integrations.platform_api_urls"))`` above
``path("api/v1/", include("integrations.api.urls"))`` in lmsbridge/urls.py."""

from django.urls import path

from . import platform_api as views

app_name = "platform_api"

base = "groups/<slug:slug>/platform/"

urlpatterns = [
    path(base, views.PlatformConnectionView.as_view(), name="connection"),
    path(f"{base}test/", views.PlatformTestView.as_view(), name="test"),
    path(f"{base}import/", views.PlatformImportView.as_view(), name="import"),
    path(f"{base}push/", views.PlatformPushView.as_view(), name="push"),
    path(f"{base}runs/", views.PlatformRunListView.as_view(), name="runs"),
    path(f"{base}runs/<int:id>/", views.PlatformRunDetailView.as_view(), name="run"),
]
