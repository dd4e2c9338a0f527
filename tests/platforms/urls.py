"""The site's URLs plus the platform pages and API, mounted as the lead will mount them."""

from django.urls import include, path

from lmsbridge.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("api/v1/", include("integrations.platform_api_urls")),
    path("groups/<slug:slug>/settings/platform/", include("integrations.platform_urls")),
    *site_urlpatterns,
]
