"""Every named URL pattern of the site, discovered from the resolver (never a hand-kept list), so
the walking tests guard the routes added later too."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# Anyone may open these; every other route must refuse an anonymous user.
PUBLIC_ROUTES = {
    "login",
    "logout",
    "health",
    "favicon",  # a redirect to a static file
    "api:schema",
    "api:docs",
    "admin:login",
    "admin:logout",
    "set_language",  # the language switch: on the login page too; it stores a cookie, no data
}

# Machine doors authenticated by an OAuth bearer token only (Udemy Business's xAPI): no session,
# no cookie, so no CSRF token either; a browser session gets 401 there.
# `tests/integrations/xapi` holds their isolation promises (a token of A on B's door, revocation).
BEARER_ROUTES = {"xapi:token", "xapi:statements"}

# Only platform superusers may use these (closing a stuck run): everyone else gets a 404.
SUPERUSER_ROUTES = {"integrations:run_close", "platforms:run_close"}


@dataclass(frozen=True)
class Route:
    name: str  # namespaced: "integrations:run"
    pattern: str  # "groups/<slug:slug>/settings/integrations/runs/<int:run_id>/"
    kwargs: tuple[str, ...]

    @property
    def is_admin_site(self) -> bool:
        return self.name.startswith("admin:")

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def is_superuser_only(self) -> bool:
        return self.name in SUPERUSER_ROUTES

    @property
    def is_bearer(self) -> bool:
        return self.name in BEARER_ROUTES

    @property
    def is_public(self) -> bool:
        return self.name in PUBLIC_ROUTES

    def __str__(self) -> str:
        return self.name


def _walk(patterns, prefix: str, namespace: str, kwargs: tuple[str, ...]):
    for entry in patterns:
        own = tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns, kwargs + own)
        elif isinstance(entry, URLPattern) and entry.name:
            yield Route(f"{namespace}{entry.name}", prefix + str(entry.pattern), kwargs + own)


def discover_routes(urlconf: str | None = None) -> list[Route]:
    """Named routes only: an unnamed one (a catch-all answering 404) can't be reversed."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver(urlconf).url_patterns, "", "", ()):
        seen.setdefault(route.name, route)
    return list(seen.values())
