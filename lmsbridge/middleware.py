"""Responses that must not be stored by a browser or a proxy."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


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
