"""Responses that must not be stored by a browser or a proxy; error pages that are the same for
everyone but a superuser, in development too; the API in the language its client asks for."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.views import defaults

request_logger = logging.getLogger("django.request")


class EnglishApiMiddleware:
    """The REST API's human-readable messages (`detail`, validation errors) follow the client's
    Accept-Language header alone, English without one: not the console's cookie, session or the
    person's stored preference, so a script's answers do not change with its admin's browser.
    Field names and codes are English whatever the language. The OpenAPI document, its page and
    the xAPI door (an LRS protocol) are always English. After LocaleMiddleware."""

    ENGLISH_ONLY = ("/xapi/", "/api/v1/schema/", "/api/v1/docs/")
    PREFIXES = ("/api/", "/xapi/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(self.PREFIXES):
            return self.get_response(request)
        language = settings.LANGUAGE_CODE
        if not path.startswith(self.ENGLISH_ONLY):
            language = self._from_header(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        response.headers["Content-Language"] = language
        return response

    @staticmethod
    def _from_header(header: str) -> str:
        from django.utils.translation.trans_real import parse_accept_lang_header

        for code, _quality in parse_accept_lang_header(header[:500]):
            if code == "*":
                break
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                continue
        return settings.LANGUAGE_CODE


class NoStoreMiddleware:
    """Pages of a signed-in user and every API answer carry `Cache-Control: no-store` (with
    Django's other never-cache headers): a shared computer's back button or a proxy must not
    keep another group's catalog or a learner's statistics. Static files are served before this
    middleware (WhiteNoise) and keep their long cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        private = bool(user and user.is_authenticated) or request.path.startswith("/api/")
        if private and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response


class FriendlyErrorPagesMiddleware:
    """With DEBUG on (development, `make run`), Django answers a 404 with its technical page,
    which lists every URL pattern of the site, and an error with its traceback page. Those are
    for the people who build the site: anyone else (learners, group admins, anonymous visitors)
    gets templates/404.html and 500.html, as in production. Superusers keep the technical pages.

    With DEBUG off this middleware does nothing: Django's own handlers render the same templates.
    A 403 needs nothing here (Django renders 403.html whatever DEBUG says), nor does a 400.

    Placed after CommonMiddleware in MIDDLEWARE, so that a 404 for a URL missing its slash still
    ends in CommonMiddleware's redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # No resolver match: the URL matched no pattern, the answer is the technical 404 page.
        unresolved = getattr(request, "resolver_match", None) is None
        if response.status_code == 404 and unresolved and self._friendly(request):
            return defaults.page_not_found(request, Resolver404({"path": request.path_info}))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view's Http404 or error, for anyone the technical pages are not for."""
        if not self._friendly(request):
            return None
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, PermissionDenied | BadRequest | SuspiciousOperation):
            return None  # Django's 403 and 400 handlers apply in DEBUG as in production
        request_logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=(type(exception), exception, exception.__traceback__),
            extra={"status_code": 500, "request": request},
        )
        return defaults.server_error(request)

    @staticmethod
    def _friendly(request: HttpRequest) -> bool:
        if not settings.DEBUG:
            return False
        user = getattr(request, "user", None)
        return not (user is not None and user.is_superuser)
