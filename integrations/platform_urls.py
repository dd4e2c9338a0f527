"""Settings → Learning platform of a group. The lead mounts it at
``path("groups/<slug:slug>/settings/platform/", include("integrations.platform_urls"))``."""

from django.urls import path

from . import platform_views as views

app_name = "platforms"

urlpatterns = [
    path("", views.connection_detail, name="connection"),
    path("test/", views.connection_test_view, name="test"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("<slug:kind>/", views.run_request, name="request"),
]
