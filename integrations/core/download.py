"""Downloading a file an API points to (a report export's signed URL) into a local file.

Not the JSON client: the body is a file (a zip), written to disk as it arrives, never held in
memory. The same guards as the JSON client, for the same traps:

- the URL is checked like a base URL (allow-listed host, https outside loopback, no user info):
  an API answer must not make a worker fetch an internal address (SSRF);
- no credentials are sent (a signed URL carries its own), no redirect is followed, loopback
  never goes through an environment proxy;
- the size is bounded as it is written (`max_bytes`), and so is the total time
  (`deadline_s`: a body trickling in a byte at a time never trips the read timeout; not
  retried);
- 5xx and network errors are retried a few times with backoff; 403/404/410 mean the link is
  gone or expired (`LinkExpired`): the caller asks for a new one.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import IO

import requests
import urllib3

from .errors import ApiError, ErrorFamily
from .hosts import validated_base_url
from .netutil import full_jitter_backoff, is_loopback_host

logger = logging.getLogger(__name__)
CHUNK = 64 * 1024
EXPIRED_STATUSES = frozenset({403, 404, 410})


class LinkExpired(Exception):
    """The download link answered 403/404/410: expired or withdrawn; ask for a new one."""

    def __init__(self, status: int) -> None:
        super().__init__(f"download link answered {status}")
        self.status = status


def checked_download_url(
    url: str, *, patterns: Sequence[str], setting_name: str, error: type[ApiError]
) -> str:
    """The URL as given once its host passes the allow-list (raises `error` otherwise)."""
    base = url.split("?", 1)[0]
    validated_base_url(base, patterns=patterns, setting_name=setting_name, error=error)
    return url


def download_to(
    out: IO[bytes],
    url: str,
    *,
    errors: ErrorFamily,
    vendor: str,
    max_bytes: int,
    deadline_s: float,
    timeout: tuple[float, float] = (5.0, 60.0),
    retries: int = 3,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Write the body at `url` into `out` (truncated first on every attempt); the bytes written.

    Raises `LinkExpired`, or the family's `bad_response` (too large) / `unavailable` (5xx,
    network, too slow, once the retries are spent)."""
    rng = random.Random()  # noqa: S311 - jitter, not cryptography
    host = (requests.utils.urlparse(url).hostname or "").lower()
    proxies = {"http": None, "https": None} if is_loopback_host(host) else None
    own = session is None
    session = session or requests.Session()
    try:
        for attempt in range(1, retries + 2):
            try:
                return _download_once(
                    out, url, session=session, proxies=proxies, timeout=timeout,
                    max_bytes=max_bytes, deadline_s=deadline_s, errors=errors, vendor=vendor,
                )  # fmt: skip
            except _Transient as exc:
                if attempt > retries:
                    raise errors.unavailable(
                        f"The {vendor} download failed ({exc}) after {attempt} attempts."
                    ) from None
                wait = full_jitter_backoff(attempt, base=0.5, ceiling=10.0, rng=rng)
                logger.warning("%s download: %s; retrying in %.2f s", vendor, exc, wait)
                sleep(wait)
    finally:
        if own:
            session.close()
    raise AssertionError("unreachable")  # pragma: no cover


class _Transient(Exception):
    pass


def _download_once(
    out: IO[bytes],
    url: str,
    *,
    session: requests.Session,
    proxies: dict | None,
    timeout: tuple[float, float],
    max_bytes: int,
    deadline_s: float,
    errors: ErrorFamily,
    vendor: str,
) -> int:
    out.seek(0)
    out.truncate()
    deadline = time.monotonic() + deadline_s
    try:
        response = session.get(
            url, timeout=timeout, allow_redirects=False, stream=True, proxies=proxies
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Transient(type(exc).__name__) from None
    with response:
        status = response.status_code
        if status in EXPIRED_STATUSES:
            raise LinkExpired(status)
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        if status != 200:
            raise errors.bad_response(f"The {vendor} download answered {status}.", status=status)
        size = 0
        try:
            while chunk := response.raw.read1(CHUNK, decode_content=True):
                size += len(chunk)
                if size > max_bytes:
                    raise errors.bad_response(
                        f"The {vendor} download is larger than {max_bytes // 2**20} MB: refused."
                    )
                if time.monotonic() > deadline:  # not retried: a slow store stays slow
                    raise errors.unavailable(
                        f"The {vendor} download took more than {deadline_s:g} s: refused."
                    )
                out.write(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Transient(type(exc).__name__) from None
    out.flush()
    return size
