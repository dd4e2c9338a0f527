"""Where START may send a learner: the organization's Udemy site, nowhere else.

A course's `url` comes from the Udemy API. It must lead to the organization's site, derived from
its name (`https://acme.udemy.com`), or to the host of the allow-listed API base URL override
(the sandbox, `http://127.0.0.1:8001`). Anything else (a phishing page, `http://x@evil.example/`,
`https://acme.udemy.com.evil.example/`) is refused twice: by the mapping, which reports the item
as a bad item, and by START, for rows stored before this check existed.

Pure functions: the origins are computed from the integration's fields and compared as
`scheme://host:port` strings (`integrations.core.hosts.url_origin`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...core.hosts import DNS_LABEL_RE, url_origin

OFF_SITE = "url is not on the organization's Udemy site"


def organization_site(organization_name: str) -> str:
    """`https://<name>.udemy.com`, or "" when the name is not a plain DNS label."""
    name = (organization_name or "").strip().lower()
    return f"https://{name}.udemy.com" if DNS_LABEL_RE.match(name) else ""


def launch_origins(*, organization_name: str, base_url: str) -> tuple[str, ...]:
    """The origins a launch URL may have: the organization's site and the API's own host."""
    candidates = (organization_site(organization_name), base_url)
    origins = (url_origin(candidate) for candidate in candidates if candidate)
    return tuple(dict.fromkeys(origin for origin in origins if origin))


def launch_url_allowed(url: str, origins: Iterable[str]) -> bool:
    """Whether `url` leads to one of `origins` (and every URL parser agrees that it does)."""
    origin = url_origin(url)
    return bool(origin) and origin in set(origins)
