"""HTTP client for the Udemy Business REST API (api-2.0): auth, paging, timeouts, retries, errors.

HTTP only: no ORM, no mapping. Reference: the Udemy Business API guide (`Pagination`,
`Authentication Parameters`) and FACTS.md ("Udemy Business REST API").

Design choices, each guarding a known trap:

- Retries are a hand-written loop, not urllib3's `Retry`: urllib3 sleeps in-process for whatever
  `Retry-After` says (up to 6 h) and ignores `backoff_max` when the header is present. Here a
  `Retry-After` above `retry_after_cap` raises `UdemyRetryLater` at once so the caller can
  reschedule instead of blocking a worker.
- Bodies are decoded with `json.loads` and every failure becomes `UdemyBadResponse`: requests'
  `JSONDecodeError` is a `RequestException`, so a generic "retry on RequestException" would retry
  an HTML error page forever.
- Pages are yielded one at a time (a generator), never accumulated: memory stays flat.
- The secret lives only in the `auth` tuple handed to requests. It never enters a log line, an
  exception message or an excerpt (excerpts are scrubbed in case a server echoes it back).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import random
import re
import time
from base64 import b64encode
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from ...netutil import RetryBudget, full_jitter_backoff, is_loopback_host, retry_after_seconds
from ...netutil import setting as _setting

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # the documented maximum: fewer requests per sync
EXCERPT_CHARS = 200
RETRY_STATUSES = frozenset({500, 502, 503, 504})
INVALID_PAGE = "Invalid page."

# A DNS label: anything else (".", "/", "@", ":") could smuggle another host into the URL.
_ORG_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_ORG_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class UdemyCredentials:
    """What an organization admin gets from Udemy: API client id/secret and the portal identity.

    `api_base_url` overrides the derived `https://{organization_name}.udemy.com/...` URL (the
    sandbox, a regional host); it must match the allow-list.
    """

    client_id: str
    client_secret: str = field(repr=False)
    organization_name: str
    organization_id: str
    api_base_url: str = ""


class UdemyError(Exception):
    """Any failure talking to Udemy. `message` is written for an organization admin."""

    def __init__(self, message: str, *, status: int | None = None, excerpt: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.excerpt = excerpt


class UdemyConfigError(UdemyError):
    """The configured base URL is not acceptable (host not allowed, plain http off loopback)."""


class UdemyAuthError(UdemyError):
    """401/403: retrying cannot help; the admin must fix the credentials or the API access."""


class UdemyNotFound(UdemyError):
    """404 (or a redirect away from the API): wrong organization name or id."""


class UdemyRetryLater(UdemyError):
    """429 whose `Retry-After` exceeds the cap (or retries exhausted): reschedule after it."""

    def __init__(
        self, message: str, *, retry_after: float, status: int | None = 429, excerpt: str = ""
    ) -> None:
        super().__init__(message, status=status, excerpt=excerpt)
        self.retry_after = retry_after


class UdemyUnavailable(UdemyError):
    """5xx, connection error or timeout that outlived every retry."""


class UdemyBadResponse(UdemyError):
    """A body that is not the documented JSON envelope (HTML, truncated, garbled)."""


@dataclass(frozen=True)
class Page:
    """One page of a Udemy list endpoint, as received."""

    number: int
    count: int | None
    results: list[dict]
    next_url: str | None
    url: str


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome of `UdemyClient.check_credentials`, ready to show to an admin."""

    ok: bool
    verdict: str  # ok | bad_credentials | no_api_access | wrong_organization | unreachable | ...
    message: str


# --------------------------------------------------------------------------- helpers


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def _page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(values[0]) if values else 1
    except ValueError:
        return 1


def _path_for_log(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _json_detail(body: str) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    return detail if isinstance(detail, str) else ""


def build_base_url(
    credentials: UdemyCredentials, allowed_hosts: Sequence[str] | None = None
) -> str:
    """The API root of the organization, validated against the allow-list (no SSRF)."""
    org_id = str(credentials.organization_id).strip()
    if not _ORG_ID_RE.match(org_id):
        raise UdemyConfigError(f"The organization id {org_id!r} is not valid: use the numeric id.")
    if credentials.api_base_url:
        return _validated_override(credentials.api_base_url, allowed_hosts or ())
    name = credentials.organization_name.strip()
    if not _ORG_NAME_RE.match(name):
        raise UdemyConfigError(
            f"The organization name {name!r} is not valid: use the portal name, e.g. 'acme' "
            "for https://acme.udemy.com."
        )
    return f"https://{name.lower()}.udemy.com/api-2.0/organizations/{org_id}/"


def _validated_override(url: str, allowed_hosts: Sequence[str]) -> str:
    url = url.strip()
    if not url.isascii():
        raise UdemyConfigError("The API base URL must be plain ASCII (use the punycode host name).")
    if any(ch.isspace() or ch == "\\" or ord(ch) < 32 for ch in url):
        raise UdemyConfigError("The API base URL contains characters that are not allowed.")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise UdemyConfigError("The API base URL must be an absolute http(s) URL.")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise UdemyConfigError("The API base URL must not contain user info, a query or fragment.")
    # Two parsers must agree on the host: a disagreement is how URL-parser SSRF tricks work.
    try:
        other_host = parse_url(url).host or ""
    except LocationParseError:  # e.g. full-width or IDNA-invalid host names
        raise UdemyConfigError("The API base URL has an invalid host name.") from None
    if other_host.strip("[]").lower() != host:
        raise UdemyConfigError("The API base URL is ambiguous.")
    if not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in allowed_hosts):
        raise UdemyConfigError(
            f"The API host {host} is not in the allowed list (UDEMY_ALLOWED_API_HOSTS)."
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise UdemyConfigError(f"Plain http is only allowed for loopback hosts, not {host}.")
    return url if url.endswith("/") else url + "/"


# --------------------------------------------------------------------------- the client


class UdemyClient:
    """Read-only client of one Udemy Business organization.

    Every request carries (connect, read) timeouts; 429 honours `Retry-After` up to a cap; 5xx and
    network errors retry with exponential backoff and full jitter; everything else fails fast with
    a `UdemyError` subclass whose `message` an admin can act on.
    """

    def __init__(
        self,
        credentials: UdemyCredentials,
        *,
        allowed_hosts: Sequence[str] | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_retries: int | None = None,
        retry_after_cap: float | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = _setting("UDEMY_ALLOWED_API_HOSTS", ["*.udemy.com"])
        self.credentials = credentials
        self.base_url = build_base_url(credentials, allowed_hosts)
        self.connect_timeout = float(_default(connect_timeout, "UDEMY_CONNECT_TIMEOUT", 5.0))
        self.read_timeout = float(_default(read_timeout, "UDEMY_READ_TIMEOUT", 60.0))
        self.max_retries = max(0, int(_default(max_retries, "UDEMY_MAX_RETRIES", 5)))
        self.retry_after_cap = float(_default(retry_after_cap, "UDEMY_RETRY_AFTER_CAP", 60.0))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.request_count = 0
        self.waits: list[float] = []
        self._sleep = sleep
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self._own_session = session is None
        self._session = session or requests.Session()
        self._auth = (credentials.client_id, credentials.client_secret)
        # requests would encode str credentials as latin-1 and crash on anything else: hand it
        # UTF-8 bytes (what servers decoding Basic auth expect today).
        self._wire_auth = tuple(part.encode("utf-8") for part in self._auth)
        self._origin = _origin(self.base_url)
        # Loopback (sandbox) traffic must never be sent through an environment proxy.
        loopback = is_loopback_host(self._origin[1])
        self._proxies = {"http": None, "https": None} if loopback else None

    def __repr__(self) -> str:
        return f"<UdemyClient {self.base_url}>"

    # ------------------------------------------------------------------ public API

    def iter_course_pages(self, start_page: int = 1) -> Iterator[Page]:
        """The organization's course catalog, one page of up to 100 courses at a time."""
        params = {"fields[courses]": "@all", "page_size": PAGE_SIZE}
        return self._iter_pages("courses/list/", params, start_page)

    def iter_learning_path_pages(self, start_page: int = 1) -> Iterator[Page]:
        """The organization's learning paths."""
        return self._iter_pages("learning-paths/list/", {"page_size": PAGE_SIZE}, start_page)

    def iter_user_course_activity_pages(self, start_page: int = 1) -> Iterator[Page]:
        """One row per learner x course (progress, dates): the statistics sync's input."""
        params = {"page_size": PAGE_SIZE}
        return self._iter_pages("analytics/user-course-activity/", params, start_page)

    def check_credentials(self) -> CredentialCheck:
        """One cheap authenticated call, mapped to a verdict; never raises for HTTP problems.

        It runs inside a web request: at most one retry, and a 429 Retry-After is never waited out.
        """
        url = self._url("courses/list/", {"page_size": 1})
        budget = RetryBudget(max_retries=min(self.max_retries, 1), retry_after_cap=0.0)
        try:
            page = self._page(url, self._get_json(url, budget))
        except UdemyError as exc:
            return _verdict_for(exc)
        count = "an unknown number of" if page.count is None else str(page.count)
        return CredentialCheck(
            ok=True,
            verdict="ok",
            message=f"Connected to Udemy organization {self.credentials.organization_id} "
            f"at {self._origin[1]}: {count} courses in the catalog.",
        )

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self) -> UdemyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ paging

    def _iter_pages(self, path: str, params: Mapping[str, Any], start_page: int) -> Iterator[Page]:
        start_page = max(1, int(start_page))
        url: str | None = self._url(path, {**params, "page": start_page})
        first = True
        while url:
            try:
                payload = self._get_json(url, self._budget())
            except UdemyError as exc:
                # Resuming past the last page: the previous run already read everything.
                if first and start_page > 1 and _is_invalid_page(exc):
                    return
                raise
            page = self._page(url, payload)
            first = False
            yield page
            url = self._checked_next(page.next_url)

    def _url(self, path: str, params: Mapping[str, Any]) -> str:
        return f"{self.base_url}{path}?{urlencode(params, safe='[]@')}"

    def _checked_next(self, next_url: str | None) -> str | None:
        """Follow `next` only to the API's own origin: a page must not redirect our credentials."""
        if not next_url:
            return None
        if _origin(next_url) != self._origin:
            raise UdemyBadResponse(
                f"Udemy's next-page link points to another server "
                f"({urlsplit(next_url).netloc}); refusing to follow it.",
                status=200,
            )
        return next_url

    def _page(self, url: str, payload: Any) -> Page:
        if not _is_envelope(payload):
            raise UdemyBadResponse(
                "Udemy answered with JSON that is not a page (expected count, next, previous, "
                "results).",
                status=200,
                excerpt=self._excerpt(json.dumps(payload)[:1000]),
            )
        return Page(
            number=_page_number(url),
            count=payload["count"],
            results=payload["results"],
            next_url=payload["next"] or None,
            url=url,
        )

    def _budget(self) -> RetryBudget:
        return RetryBudget(max_retries=self.max_retries, retry_after_cap=self.retry_after_cap)

    # ------------------------------------------------------------------ one request, with retries

    def _get_json(self, url: str, budget: RetryBudget) -> Any:
        while True:
            budget.made += 1
            try:
                response = self._send(url)
            except _TRANSIENT_ERRORS as exc:
                error = _network_error(exc, self, budget)
                if isinstance(exc, requests.exceptions.SSLError):
                    raise error from None  # a certificate problem does not heal by retrying
                self._retry_or_raise(url, budget, error, why=_short_reason(exc))
                continue
            if response.status_code == 429:
                self._handle_429(url, budget, response)
            elif response.status_code in RETRY_STATUSES:
                error = self._unavailable(response, budget)
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                self._retry_or_raise(
                    url, budget, error, why=str(response.status_code), retry_after=retry_after
                )
            else:
                return self._decode(response)

    def _send(self, url: str) -> requests.Response:
        self.request_count += 1
        try:
            return self._session.get(
                url,
                auth=self._wire_auth,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,  # a redirect would carry our request to another host
                proxies=self._proxies,
                headers={"Accept": "application/json"},
            )
        except _TRANSIENT_ERRORS:
            raise
        except requests.RequestException as exc:
            # Anything else (invalid URL, bad header...) will not heal by retrying. `from None`:
            # the chained exception holds the prepared request, Authorization header included.
            raise UdemyUnavailable(f"The request to Udemy failed ({type(exc).__name__}).") from None

    def _handle_429(self, url: str, budget: RetryBudget, response: requests.Response) -> None:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        excerpt = self._excerpt(response.text)
        if retry_after is not None and retry_after > budget.retry_after_cap:
            raise UdemyRetryLater(
                f"Udemy is rate-limiting requests (429) and asks to wait {retry_after:g} s.",
                retry_after=retry_after,
                excerpt=excerpt,
            )
        wait = retry_after if retry_after is not None else self._backoff(budget.made)
        if budget.exhausted:
            raise UdemyRetryLater(
                f"Udemy is still rate-limiting requests (429) after {budget.made} attempts.",
                retry_after=wait,
                excerpt=excerpt,
            )
        self._wait(url, "429", wait, budget)

    def _retry_or_raise(
        self,
        url: str,
        budget: RetryBudget,
        error: UdemyError,
        *,
        why: str,
        retry_after: float | None = None,
    ) -> None:
        if budget.exhausted:
            # `from None`: a chained requests exception carries the prepared request, and with it
            # the Authorization header, into tracebacks and error reports.
            raise error from None
        wait = self._backoff(budget.made)
        # A 503 may say when to come back: honour it when it is within the cap.
        if retry_after is not None and retry_after <= budget.retry_after_cap:
            wait = retry_after
        self._wait(url, why, wait, budget)

    def _unavailable(self, response: requests.Response, budget: RetryBudget) -> UdemyError:
        msg = f"{self._status_message(response)} after {_attempts(budget.made)}."
        return self._error(response, UdemyUnavailable, msg)

    def _backoff(self, attempt: int) -> float:
        return full_jitter_backoff(
            attempt, base=self.backoff_base, ceiling=self.backoff_max, rng=self._random
        )

    def _wait(self, url: str, why: int | str, seconds: float, budget: RetryBudget) -> None:
        logger.warning(
            "Udemy GET %s: %s; retry %d/%d in %.2f s",
            _path_for_log(url),
            why,
            budget.made,
            budget.max_retries,
            seconds,
        )
        self.waits.append(seconds)
        self._sleep(seconds)

    # ------------------------------------------------------------------ classification

    def _decode(self, response: requests.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return json.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                raise self._error(
                    response,
                    UdemyBadResponse,
                    "Udemy answered with a body that is not JSON"
                    f" ({self._content_type(response)}); the page could not be read.",
                ) from None
        raise self._http_error(response)

    def _http_error(self, response: requests.Response) -> UdemyError:
        status = response.status_code
        host = self._origin[1]
        if status == 401:
            msg = "Udemy rejected the credentials (401): check client_id and client_secret."
            return self._error(response, UdemyAuthError, msg)
        if status == 403:
            msg = (
                "Udemy refused access (403): the API is not enabled for this organization "
                "or the credentials lack permission."
            )
            return self._error(response, UdemyAuthError, msg)
        if status == 404:
            msg = (
                f"Udemy has no organization {self.credentials.organization_id} at {host}: "
                "check organization_name and organization_id."
            )
            return self._error(response, UdemyNotFound, msg)
        if 300 <= status < 400:
            target = urlsplit(response.headers.get("Location", "")).netloc or "another page"
            msg = (
                f"Udemy redirected the API request to {target} ({status}): "
                "check organization_name and organization_id."
            )
            return self._error(response, UdemyNotFound, msg)
        cls = UdemyUnavailable if status >= 500 else UdemyError
        return self._error(response, cls, f"{self._status_message(response)}.")

    def _status_message(self, response: requests.Response) -> str:
        detail = _json_detail(response.text)
        reason = f" ({detail.rstrip('.')})" if detail else ""
        return f"Udemy answered {response.status_code}{reason}"

    def _error(self, response: requests.Response, cls: type[UdemyError], msg: str) -> UdemyError:
        return cls(msg, status=response.status_code, excerpt=self._excerpt(response.text))

    @staticmethod
    def _content_type(response: requests.Response) -> str:
        return response.headers.get("Content-Type", "no content type").split(";")[0]

    def _excerpt(self, text: str) -> str:
        """The start of a body for the sync history, with any echo of the credentials removed."""
        excerpt = text[: EXCERPT_CHARS * 4]
        for secret in self._secret_forms():
            excerpt = excerpt.replace(secret, "***")
        return excerpt[:EXCERPT_CHARS]

    def _secret_forms(self) -> list[str]:
        client_id, secret = self._auth
        token = b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
        return [form for form in (token, f"{client_id}:{secret}", secret) if form]


def _default(value: Any, setting: str, fallback: Any) -> Any:
    return _setting(setting, fallback) if value is None else value


def _is_envelope(payload: Any) -> bool:
    if not isinstance(payload, dict) or not {"count", "next", "previous", "results"} <= set(
        payload
    ):
        return False
    count, next_url = payload["count"], payload["next"]
    return (
        isinstance(payload["results"], list)
        and (count is None or (isinstance(count, int) and not isinstance(count, bool)))
        and (next_url is None or isinstance(next_url, str))
    )


def _is_invalid_page(exc: UdemyError) -> bool:
    return exc.status == 400 and _json_detail(exc.excerpt) == INVALID_PAGE


_TRANSIENT_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,  # connection cut mid-body
)


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


def _short_reason(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.Timeout):
        return "read timeout"
    return type(exc).__name__


def _network_error(exc: Exception, client: UdemyClient, budget: RetryBudget) -> UdemyUnavailable:
    """An admin-readable message for a transport failure (never the exception's headers)."""
    host = client._origin[1]
    attempts = f"after {_attempts(budget.made)}"
    if isinstance(exc, requests.ConnectTimeout):
        msg = (
            f"Udemy at {host} did not accept a connection within {client.connect_timeout:g} s "
            f"(connect timeout) {attempts}."
        )
    elif isinstance(exc, requests.Timeout):
        msg = f"Udemy did not answer within {client.read_timeout:g} s (read timeout) {attempts}."
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
        msg = f"The connection to Udemy at {host} broke while reading a page {attempts}."
    else:
        msg = f"Udemy at {host} could not be reached ({_connection_reason(exc)}) {attempts}."
    return UdemyUnavailable(msg)


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if "Name or service not known" in text or "NameResolution" in text or "getaddrinfo" in text:
        return "host not found"
    if "refused" in text.lower():
        return "connection refused"
    return "connection error"


_VERDICTS: list[tuple[type[UdemyError], str]] = [
    (UdemyConfigError, "not_allowed"),
    (UdemyNotFound, "wrong_organization"),
    (UdemyRetryLater, "unreachable"),
    (UdemyUnavailable, "unreachable"),
    (UdemyBadResponse, "bad_response"),
]


def _verdict_for(exc: UdemyError) -> CredentialCheck:
    if isinstance(exc, UdemyAuthError):
        verdict = "bad_credentials" if exc.status == 401 else "no_api_access"
    else:
        verdict = next((v for cls, v in _VERDICTS if isinstance(exc, cls)), "bad_response")
    return CredentialCheck(ok=False, verdict=verdict, message=exc.message)
