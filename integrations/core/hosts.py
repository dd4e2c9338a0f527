"""Which hosts a connector may call: an allow-list of host patterns, checked before any request.

No SSRF: a base URL (derived or overridden) is accepted only when it is a plain absolute http(s)
URL whose host matches one of the given patterns (fnmatch syntax: the vendor's own domains, the
patterns of an allow-list setting, loopback outside production), and plain http only for
loopback. The caller names the setting, so the refusal tells the admin what to change.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.utils.translation import gettext, gettext_noop
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .errors import ApiError, ConfigError
from .netutil import is_loopback_host, setting

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# A DNS label (a portal subdomain, an organization name): anything else (".", "/", "@", ":")
# could smuggle another host into a derived URL.
DNS_LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
NOT_ALLOWED = gettext_noop("The host {host} is not allowed: add it to {setting} to connect to it.")


def allowed_host_patterns(vendor_patterns: Sequence[str], setting_name: str) -> tuple[str, ...]:
    """The vendor's patterns, the setting's patterns, and loopback outside production."""
    extra = tuple(setting(setting_name, ()) or ())
    loopback = () if setting("PRODUCTION", False) else LOOPBACK_HOSTS
    return (*vendor_patterns, *extra, *loopback)


def validated_base_url(
    url: str,
    *,
    patterns: Sequence[str],
    setting_name: str,
    error: type[ApiError] = ConfigError,
    not_allowed: str = NOT_ALLOWED,
) -> str:
    """The URL with a trailing slash, or `error` naming what is wrong.

    `not_allowed` is the refusal of a host outside `patterns`, formatted with `host` and
    `setting` (`setting_name`, the allow-list an admin can extend).
    """
    url = url.strip()
    if not url.isascii():
        raise error(gettext("The API base URL must be plain ASCII (use the punycode host name)."))
    if any(ch.isspace() or ch == "\\" or ord(ch) < 32 for ch in url):
        raise error(gettext("The API base URL contains characters that are not allowed."))
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise error(gettext("The API base URL must be an absolute http(s) URL."))
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise error(gettext("The API base URL must not contain user info, a query or a fragment."))
    # Two parsers must agree on the host: a disagreement is how URL-parser SSRF tricks work.
    try:
        other_host = parse_url(url).host or ""
    except LocationParseError:  # e.g. full-width or IDNA-invalid host names
        raise error(gettext("The API base URL has an invalid host name.")) from None
    if other_host.strip("[]").lower() != host:
        raise error(gettext("The API base URL is ambiguous."))
    if not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in patterns):
        raise error(gettext(not_allowed).format(host=host, setting=setting_name))
    if parts.scheme == "http" and not is_loopback_host(host):
        raise error(
            gettext("Plain http is only allowed for loopback hosts, not %(host)s.") % {"host": host}
        )
    return url if url.endswith("/") else url + "/"


_DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name or an IPv4 address, lowercase ASCII: no brackets, "%" escapes, "@" or "\" that a
# browser would read differently from this parser.
_HOST_NAME_RE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_NOT_IN_URL_RE = re.compile(r"[\x00-\x20\x7f\\]")


def url_origin(url: object) -> str:
    """ "scheme://host:port" of an absolute http(s) URL (lowercase host without a trailing dot,
    the scheme's port when none is written), or "" when `url` is not one that every reader
    would send to the same host: user info, backslashes, whitespace, a non-ASCII, escaped or
    bracketed host, a bad port, or two parsers disagreeing on the host.

    Compare origins to decide whether a URL leads to an expected site (an open redirect check).
    """
    if not isinstance(url, str) or not url.isascii() or _NOT_IN_URL_RE.search(url):
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
        other_host = parse_url(url).host or ""
    except (ValueError, LocationParseError):
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").removesuffix(".")
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not _HOST_NAME_RE.match(host):
        return ""
    if other_host.lower().removesuffix(".") != host:
        return ""
    return f"{scheme}://{host}:{_DEFAULT_PORTS[scheme] if port is None else port}"
