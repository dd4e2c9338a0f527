"""Which hosts a platform connection may call: vendor domains + `PLATFORM_ALLOWED_HOSTS`.

No SSRF: a base URL (derived or overridden) is accepted only when its host matches the kind's
vendor patterns (`*.learnupon.com`; Coursebase custom domains have none and must be listed in
the setting) or the setting's patterns (fnmatch syntax). Loopback hosts (the sandboxes) are
allowed only outside production, and plain http only for loopback.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from urllib3.util import parse_url

from ..netutil import is_loopback_host
from ..netutil import setting as _setting
from .base import PlatformConfigError

VENDOR_HOSTS: dict[str, tuple[str, ...]] = {
    "learnupon": ("*.learnupon.com",),
    "coursebase": (),  # custom domains: each one is listed in PLATFORM_ALLOWED_HOSTS
}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# A DNS label (a LearnUpon portal subdomain): anything else could smuggle in another host.
DNS_LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def allowed_host_patterns(kind: str) -> tuple[str, ...]:
    """Vendor patterns of `kind`, the setting's patterns, and loopback outside production."""
    extra = tuple(_setting("PLATFORM_ALLOWED_HOSTS", ()) or ())
    production = bool(_setting("PRODUCTION", False))
    loopback = () if production else LOOPBACK_HOSTS
    return (*VENDOR_HOSTS.get(kind, ()), *extra, *loopback)


def validated_base_url(url: str, *, kind: str, patterns: Sequence[str] | None = None) -> str:
    """The URL with a trailing slash, or `PlatformConfigError` naming what is wrong."""
    url = url.strip()
    if any(ch.isspace() or ch == "\\" or ord(ch) < 32 for ch in url):
        raise PlatformConfigError("The API base URL contains characters that are not allowed.")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise PlatformConfigError("The API base URL must be an absolute http(s) URL.")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise PlatformConfigError(
            "The API base URL must not contain user info, a query or a fragment."
        )
    # Two parsers must agree on the host: a disagreement is how URL-parser SSRF tricks work.
    if (parse_url(url).host or "").strip("[]").lower() != host:
        raise PlatformConfigError("The API base URL is ambiguous.")
    allowed = allowed_host_patterns(kind) if patterns is None else patterns
    if not any(fnmatch.fnmatchcase(host, p.lower()) for p in allowed):
        raise PlatformConfigError(
            f"The host {host} is not allowed: add it to PLATFORM_ALLOWED_HOSTS to connect to it."
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise PlatformConfigError(f"Plain http is only allowed for loopback hosts, not {host}.")
    return url if url.endswith("/") else url + "/"
