"""The site's URLs: the one place where the apps' pages and API routes are put together."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView

from catalog import preferences
from catalog.api import urls as catalog_api
from integrations.api import urls as integrations_api
from integrations.api import xapi_door
from integrations.web import urls as integrations_web
from shared.api.docs import api_docs
from shared.api.errors import api_not_found

from . import metrics, views

api_urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api_docs, name="docs"),
    *catalog_api.urlpatterns,
    *integrations_api.urlpatterns,
    # Last: any other URL under /api/v1/ answers a JSON 404, not Django's HTML page.
    re_path(r"^(?P<path>[\s\S]*)$", api_not_found),  # [\s\S]: a newline in the path too
]


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says: send them to
    the static SVG (resolved per request: in production its name carries the manifest's hash)."""
    return HttpResponseRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("health/", views.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),  # Prometheus; token or allow-list
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # The language switch of base.html posts here: Django's set_language, and a signed-in
    # person's choice is stored with the account.
    path("i18n/setlang/", preferences.language_set, name="set_language"),
    path("accounts/preferences/", preferences.preferences, name="preferences"),
    # Udemy Business's xAPI door: OAuth token endpoint and statements (bearer tokens only).
    path("xapi/", include(xapi_door)),
    # Platform endpoints before the API's JSON catch-all 404.
    path("api/v1/", include((integrations_api.platform_urlpatterns, "platform_api"))),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path(
        "groups/<slug:slug>/settings/platform/",
        include((integrations_web.platform_urlpatterns, "platforms")),
    ),
    path("", include("catalog.urls")),
    path("groups/<slug:slug>/", include(integrations_web)),
]
