from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Platform endpoints first: integrations.api.urls ends with a JSON catch-all 404.
    path("api/v1/", include("integrations.platform_api_urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("groups/<slug:slug>/settings/platform/", include("integrations.platform_urls")),
    path("catalog/", include("lmsbridge.catalog.urls")),
    path("groups/<slug:slug>/", include("integrations.urls")),
]
