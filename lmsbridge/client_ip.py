"""The address of the client of a request, as login throttling (django-axes) keys it.

Without a proxy configured (`TRUSTED_PROXY_COUNT=0`, the default) it is the connecting address,
`REMOTE_ADDR`: any forwarded header is ignored, since a client can write one itself.

Behind reverse proxies (`TRUSTED_PROXY_COUNT=N`), every request connects from the last proxy
(127.0.0.1 for a proxy on the same host), so `REMOTE_ADDR` is the same for every client. Each
proxy appends the address it received the request from to the forwarded header
(`TRUSTED_PROXY_HEADER`, X-Forwarded-For by default; nginx's `$proxy_add_x_forwarded_for`).
The client's address is therefore the N-th entry from the right: whatever the client wrote
itself stands to the left of it and is never read. A header with fewer entries than proxies,
or an entry that is not an IP address, was not written by the proxies: `REMOTE_ADDR` is used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: from the trusted proxies' header, else the connecting address."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    entries = [entry.strip() for entry in _forwarded(request).split(",") if entry.strip()]
    if len(entries) < count:
        return remote
    return _normalized(entries[-count]) or remote


def _forwarded(request: HttpRequest) -> str:
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "") or "X-Forwarded-For"
    key = "HTTP_" + header.strip().upper().replace("-", "_")
    return request.META.get(key, "")


def _normalized(value: str) -> str:
    """`value` as a canonical IP address, or "" when it is not one."""
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return ""
