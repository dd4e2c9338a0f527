"""HTTP client for the Udemy Business REST API (api-2.0): base URL, auth, paging, Udemy's errors.

HTTP only: no ORM, no mapping. Reference: the Udemy Business API guide (`Pagination`,
`Authentication Parameters`, "Udemy Business REST API").

The retry loop, timeouts, `Retry-After` cap, backoff and excerpt scrubbing are the core's
(`integrations.core.http`); what is Udemy's stays here:

- the API root `https://{organization_name}.udemy.com/api-2.0/organizations/{id}/`, or an
  override checked against `UDEMY_ALLOWED_API_HOSTS` (no SSRF);
- HTTP Basic auth with the client id and secret, sent as UTF-8;
- paging by `page`/`page_size` and the absolute `next` link, followed only to the API's own
  origin; pages are yielded one at a time (a generator), so memory stays flat;
- bounded lists: a page weighs at most `UDEMY_MAX_PAGE_MB` and holds at most the page size
  asked for; a list ends within the pages its count makes (and a small slack), or, without a
  count, within `UDEMY_MAX_CATALOG_PAGES` / `UDEMY_MAX_REPORT_PAGES`; an empty page whose
  `next` points on ends it too. Whatever breaks a bound is a `UdemyBadResponse`: the scan is
  incomplete, so nothing is archived;
- error messages an organization admin can act on ("Udemy rejected the credentials (401)...").

The secret lives only in the `auth` tuple handed to requests. It never enters a log line, an
exception message or an excerpt (excerpts are scrubbed in case a server echoes it back).
"""

from __future__ import annotations

import json
import math
import re
from base64 import b64encode
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from ...core.budget import BudgetShare, SharedBudget
from ...core.concurrency import AdaptiveLimit, Pacer, fetch_in_order
from ...core.hosts import DNS_LABEL_RE, validated_base_url
from ...core.http import JsonHttpClient
from ...core.http_errors import attempts
from ...core.netutil import RetryBudget, is_loopback_host, setting, setting_or
from .errors import (
    UDEMY_ERRORS,
    CredentialCheck,
    UdemyAuthError,
    UdemyBadResponse,
    UdemyConfigError,
    UdemyError,
    UdemyNotFound,
    UdemyRetryLater,
    UdemyUnavailable,
    verdict_for,
)

__all__ = [
    "CredentialCheck",
    "Page",
    "UdemyAuthError",
    "UdemyBadResponse",
    "UdemyClient",
    "UdemyConfigError",
    "UdemyCredentials",
    "UdemyError",
    "UdemyNotFound",
    "UdemyRetryLater",
    "UdemyUnavailable",
    "build_base_url",
    "is_loopback_host",
]

PAGE_SIZE = 100  # the documented maximum: fewer requests per sync
INVALID_PAGE = "Invalid page."
MAX_COUNT = 100_000_000  # items in one list: far above any organization's catalog or report
# The heaviest list page read (UDEMY_MAX_PAGE_MB), decompressed, well below the general
# UPSTREAM_MAX_BODY_MB: the JSON parse of a page stays small whatever a server sends, with four
# pages in flight. 100 courses with `fields[courses]=@all` (descriptions, objectives,
# instructors, images) weigh about 240 KB in the sandbox and rarely 1.5 MB in a real catalog:
# 5 MB leaves 50 KB per course. 200,000 items `{"id": N, "title": "t"}` (6 MB, which took a
# worker to 728 MB before this bound) are refused while they arrive.
MAX_PAGE_MB = 5.0
# Pages a list without a `count` may have (a count bounds the list by itself): the largest
# Udemy Business catalogs hold about 30,000 courses (300 pages); 2,000 pages = 200,000 items.
# The learner x course activity report of a large organization runs to 1,000,000 rows
# (10,000 pages): 20,000 pages = 2,000,000 rows. Settings UDEMY_MAX_CATALOG_PAGES and
# UDEMY_MAX_REPORT_PAGES.
MAX_CATALOG_PAGES = 2_000
MAX_REPORT_PAGES = 20_000
ALLOWED_HOSTS_SETTING = "UDEMY_ALLOWED_API_HOSTS"

_ORG_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


@dataclass(frozen=True)
class Page:
    """One page of a Udemy list endpoint, as received."""

    number: int
    count: int | None
    results: list[dict]
    next_url: str | None
    url: str


def build_base_url(
    credentials: UdemyCredentials, allowed_hosts: Sequence[str] | None = None
) -> str:
    """The API root of the organization, validated against the allow-list (no SSRF)."""
    org_id = str(credentials.organization_id).strip()
    if not _ORG_ID_RE.match(org_id):
        raise UdemyConfigError(f"The organization id {org_id!r} is not valid: use the numeric id.")
    if credentials.api_base_url:
        return validated_base_url(
            credentials.api_base_url,
            patterns=allowed_hosts or (),
            setting_name=ALLOWED_HOSTS_SETTING,
            error=UdemyConfigError,
            not_allowed="The API host {host} is not in the allowed list ({setting}).",
        )
    name = credentials.organization_name.strip()
    if not DNS_LABEL_RE.match(name):
        raise UdemyConfigError(
            f"The organization name {name!r} is not valid: use the portal name, e.g. 'acme' "
            "for https://acme.udemy.com."
        )
    return f"https://{name.lower()}.udemy.com/api-2.0/organizations/{org_id}/"


class UdemyClient(JsonHttpClient):
    """Read-only client of one Udemy Business organization.

    Every request carries (connect, read) timeouts; 429 honours `Retry-After` up to a cap; 5xx and
    network errors retry with exponential backoff and full jitter; everything else fails fast with
    a `UdemyError` subclass whose `message` an admin can act on.
    """

    vendor = "Udemy"
    errors = UDEMY_ERRORS
    settings_prefix = "UDEMY"
    excerpt_chars = 200
    query_safe = "[]@"
    cap_own_429_wait = False  # only a Retry-After above the cap stops the run
    log_query = True  # page, page_size, fields: which page was retried

    def __init__(
        self,
        credentials: UdemyCredentials,
        *,
        allowed_hosts: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = setting(ALLOWED_HOSTS_SETTING, ["*.udemy.com"])
        self.credentials = credentials
        client_id, secret = credentials.client_id, credentials.client_secret
        token = b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
        super().__init__(
            build_base_url(credentials, allowed_hosts),
            # requests would encode str credentials as latin-1 and crash on anything else:
            # hand it UTF-8 bytes (what servers decoding Basic auth expect today).
            auth=(client_id.encode("utf-8"), secret.encode("utf-8")),
            secrets=(token, f"{client_id}:{secret}", secret),
            **kwargs,
        )
        self._origin = _origin(self.base_url)
        self.page_concurrency: int | None = None  # None: UDEMY_PAGE_CONCURRENCY
        self.page_limit: AdaptiveLimit | None = None  # the last concurrent scan's limit
        # The organization's rate, learnt from its 429s and kept for every scan of this client
        # (`core.concurrency.Pacer`): requests are spaced just under it once it is known.
        self.pacer = Pacer()
        self._scanning = False  # a concurrent scan is under way (page_limit is its limit)
        # The organization's request budget, shared with its other syncs (`core.budget`), and
        # the requests in flight it allows this client (None: no cap).
        self.budget: SharedBudget | None = None
        self.in_flight_cap: int | None = None

    # ------------------------------------------------------------------ public API

    def iter_course_pages(self, start_page: int = 1) -> Iterator[Page]:
        """The organization's course catalog, one page of up to 100 courses at a time."""
        params = {"fields[courses]": "@all", "page_size": PAGE_SIZE}
        return self._iter_pages("courses/list/", params, start_page, ceiling=_CATALOG)

    def iter_learning_path_pages(self, start_page: int = 1) -> Iterator[Page]:
        """The organization's learning paths."""
        params = {"page_size": PAGE_SIZE}
        return self._iter_pages("learning-paths/list/", params, start_page, ceiling=_CATALOG)

    def iter_user_course_activity_pages(
        self, start_page: int = 1, last_page: int | None = None
    ) -> Iterator[Page]:
        """One row per learner x course (progress, dates): the statistics sync's input (pages
        `start_page` to `last_page`, or to the end)."""
        params = {"page_size": PAGE_SIZE}
        path = "analytics/user-course-activity/"
        return self._iter_pages(path, params, start_page, last_page, ceiling=_REPORT)

    def check_credentials(self) -> CredentialCheck:
        """One cheap authenticated call, mapped to a verdict; never raises for HTTP problems.

        It runs inside a web request: at most one retry, and a 429 Retry-After is never waited out.
        """
        url = self.url_for("courses/list/", {"page_size": 1})
        try:
            with self.within_a_web_request():
                page = self._get_page(url, 1)
        except UdemyError as exc:
            return verdict_for(exc)
        count = "an unknown number of" if page.count is None else str(page.count)
        return CredentialCheck(
            ok=True,
            verdict="ok",
            message=f"Connected to Udemy organization {self.credentials.organization_id} "
            f"at {self.host}: {count} courses in the catalog.",
        )

    # ------------------------------------------------------------------ paging

    def _iter_pages(
        self,
        path: str,
        params: Mapping[str, Any],
        start_page: int,
        last_page: int | None = None,
        *,
        ceiling: tuple[str, int],
    ) -> Iterator[Page]:
        """The pages of a list from `start_page` on, in order. The first page's `count` says how
        many there are: the next ones are fetched `UDEMY_PAGE_CONCURRENCY` at a time by number
        (pages by number are independent), each checked as if its `next` had been followed;
        a list that grew past its count goes on by `next`, one page at a time, up to a slack
        (`_Bounds`). `last_page`: stop there (a range of a split report). `ceiling`: the
        setting and default of the most pages a list without a count may have."""
        start_page = max(1, int(start_page))
        page_size = int(params.get("page_size", PAGE_SIZE))
        url = self.url_for(path, {**params, "page": start_page})
        try:
            first = self._get_page(url, page_size)
        except UdemyError as exc:
            # Resuming past the last page: the previous run already read everything.
            if start_page > 1 and _is_invalid_page(exc):
                return
            raise
        yield first
        items, page = len(first.results), first
        next_url = self._checked_next(first.next_url)
        last = _last_page(first.count, page_size)
        bounds = _Bounds.of(first, last, ceiling)
        if last_page is not None:
            if first.number >= last_page:
                return
            last = min(last, last_page)
        concurrency = self.configured_concurrency()
        if next_url and concurrency > 1 and last > first.number:
            bounds.check(first, next_url, items)
            for page in self._pages_by_number(path, params, range(first.number + 1, last + 1),
                                              concurrency):  # fmt: skip
                items += len(page.results)
                yield page
                next_url = self._checked_next(page.next_url)
                if next_url:
                    bounds.check(page, next_url, items)
        while next_url and (last_page is None or page.number < last_page):
            bounds.check(page, next_url, items)
            page = self._get_page(next_url, page_size)
            items += len(page.results)
            yield page
            next_url = self._checked_next(page.next_url)

    def _pages_by_number(
        self, path: str, params: Mapping[str, Any], numbers: range, concurrency: int
    ) -> Iterator[Page]:
        def fetch(number: int) -> Page:
            # An "Invalid page" here means the list shrank mid-scan: an error, never a short
            # scan (what it missed would be archived).
            url = self.url_for(path, {**params, "page": number})
            return self._get_page(url, int(params.get("page_size", PAGE_SIZE)))

        self.page_limit = AdaptiveLimit(concurrency, ceiling=self.in_flight_cap)
        self._scanning = True
        self.hold_shared_pause(True)
        try:
            yield from fetch_in_order(
                numbers, fetch, self.page_limit, throttle_count=lambda: self.throttled,
                name="udemy-pages",
            )  # fmt: skip
        finally:
            self.hold_shared_pause(False)
            self._scanning = False

    # ------------------------------------------------------------------ the shared budget

    def configured_concurrency(self) -> int:
        return int(setting_or(self.page_concurrency, "UDEMY_PAGE_CONCURRENCY", 4))

    def wanted_in_flight(self) -> int:
        """What the scan under way would have in flight (its adaptive limit), or would start
        with."""
        if self._scanning and self.page_limit:
            return self.page_limit.value
        return self.configured_concurrency()

    def cap_in_flight(self, slots: int) -> None:
        """At most `slots` requests in flight (the organization's shared budget says so)."""
        self.in_flight_cap = slots
        if self.page_limit:
            self.page_limit.ceiling = slots

    def budget_share(self) -> BudgetShare | None:
        """A scan's share of the organization's budget (None when it is not shared)."""
        if self.budget is None:
            return None
        return BudgetShare(self.budget, self, want=self.wanted_in_flight, cap=self.cap_in_flight)

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

    def _get_page(self, url: str, page_size: int) -> Page:
        """One page of a list, its body at most `UDEMY_MAX_PAGE_MB` (`MAX_PAGE_MB`)."""
        limit = float(setting("UDEMY_MAX_PAGE_MB", MAX_PAGE_MB))
        payload = self.request("GET", url, max_body=int(limit * 2**20)).payload
        return self._page(url, payload, page_size)

    def _page(self, url: str, payload: Any, page_size: int | None = None) -> Page:
        """`payload` as a page, refused when it is not one or holds more items than the
        `page_size` asked for (a page of 800,000 items would be mapped and stored at once)."""
        if not _is_envelope(payload):
            raise UdemyBadResponse(
                "Udemy answered with JSON that is not a page (expected count, next, previous, "
                "results).",
                status=200,
                excerpt=self._excerpt(json.dumps(payload)[:1000]),
            )
        if page_size is not None and len(payload["results"]) > page_size:
            raise UdemyBadResponse(
                f"Udemy sent {len(payload['results'])} items on page {_page_number(url)}, more "
                f"than the {page_size} asked for: the page is refused.",
                status=200,
            )
        return Page(
            number=_page_number(url),
            count=payload["count"],
            results=payload["results"],
            next_url=payload["next"] or None,
            url=url,
        )

    # ------------------------------------------------------------------ pacing

    def _send(self, method: str, url: str, body: Any) -> requests.Response:
        self.pacer.wait()  # no wait before the first 429; a Retry-After pause is the core's
        return super()._send(method, url, body)

    def _after_response(self, response: requests.Response) -> None:
        if response.status_code != 429:
            self.pacer.answered()
            return
        # When the request left (`elapsed`: until its headers came back), so that the 429s of
        # requests already in flight at a cut count as the same event.
        elapsed = getattr(response, "elapsed", None)
        seconds = elapsed.total_seconds() if elapsed is not None else 0.0
        self.pacer.throttled(sent_at=self.pacer.clock() - seconds)

    # ------------------------------------------------------------------ Udemy's messages

    def _detail(self, payload: Any) -> str:
        return _detail_in(payload)

    def _default_429_wait(self, attempt: int) -> float:
        return self._backoff(attempt)  # no Retry-After: the (short) backoff of a 5xx

    def _rate_limited_message(self, wait: float, budget: RetryBudget, *, still: bool) -> str:
        if still:
            return super()._rate_limited_message(wait, budget, still=True)
        return f"Udemy is rate-limiting requests (429) and asks to wait {self._human_wait(wait)}."

    def _unavailable(self, response: requests.Response, budget: RetryBudget) -> UdemyError:
        msg = f"{self._status_message(response)} after {attempts(budget.made)}."
        return self._error(response, UdemyUnavailable, msg)

    def _http_error(self, response: requests.Response) -> UdemyError:
        status = response.status_code
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
                f"Udemy has no organization {self.credentials.organization_id} at {self.host}: "
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
        detail = self._detail_of(response.text)
        reason = f" ({detail})" if detail else ""
        return f"Udemy answered {response.status_code}{reason}"

    def _error(self, response: requests.Response, cls: type[UdemyError], msg: str) -> UdemyError:
        return cls(msg, status=response.status_code, excerpt=self._excerpt(response.text))

    def _network_message(self, exc: Exception, budget: RetryBudget) -> str:
        """An admin-readable message for a transport failure (never the exception's headers)."""
        host, after = self.host, f"after {attempts(budget.made)}"
        if isinstance(exc, requests.ConnectTimeout):
            return (
                f"Udemy at {host} did not accept a connection within {self.connect_timeout:g} s "
                f"(connect timeout) {after}."
            )
        if isinstance(exc, requests.Timeout):
            return f"Udemy did not answer within {self.read_timeout:g} s (read timeout) {after}."
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return f"The connection to Udemy at {host} broke while reading a page {after}."
        return f"Udemy at {host} could not be reached ({_connection_reason(exc)}) {after}."


# --------------------------------------------------------------------------- helpers


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


_CATALOG = ("UDEMY_MAX_CATALOG_PAGES", MAX_CATALOG_PAGES)
_REPORT = ("UDEMY_MAX_REPORT_PAGES", MAX_REPORT_PAGES)


@dataclass(frozen=True)
class _Bounds:
    """Where a scan stops following `next`: the pages the first page's count makes plus a
    slack of a tenth (items added during the scan), or, without a count, a ceiling setting.
    Page numbers are the list's own, so a scan resumed from its checkpoint (a new time slice)
    does not start its allowance anew."""

    start_page: int
    count: int | None
    last_allowed: int
    ceiling_setting: str

    @classmethod
    def of(cls, first: Page, last: int, ceiling: tuple[str, int]) -> _Bounds:
        name, default = ceiling
        if last:
            return cls(first.number, first.count, last + 1 + last // 10, name)
        return cls(first.number, None, max(1, int(setting(name, default))), name)

    def check(self, page: Page, next_url: str, items: int) -> None:
        """Stop a scan that would never end before it follows `next_url` from `page`."""
        following = _page_number(next_url)
        if following <= page.number:
            raise _endless(
                f"Udemy's next-page link does not advance (page {page.number} points to page "
                f"{following}): the scan stops there."
            )
        if not page.results:
            raise _endless(
                f"Udemy sent page {page.number} empty with a link to page {following}: the "
                "list does not end, the scan stops there."
            )
        if following > self.last_allowed and self.count is not None:
            raise _endless(
                f"Udemy's list goes on past page {self.last_allowed} but announced "
                f"{self.count} items: the scan stops there."
            )
        if following > self.last_allowed:
            raise _endless(
                f"Udemy's list has more than {self.last_allowed} pages and no count "
                f"(the most {self.ceiling_setting} allows): the scan stops there."
            )
        if page.count is not None:
            expected = page.count - (self.start_page - 1) * PAGE_SIZE
            if items > expected + max(PAGE_SIZE, expected // 10):
                raise _endless(
                    f"Udemy listed {items} items from page {self.start_page} on but announced "
                    f"{page.count} in all: the scan stops there."
                )


def _endless(message: str) -> UdemyBadResponse:
    return UdemyBadResponse(message, status=200)


def _last_page(count: Any, page_size: int) -> int:
    """The number of pages `count` items make (0 when the count is unknown)."""
    if not _is_count(count) or page_size <= 0:
        return 0
    return max(1, math.ceil(count / page_size))


def _page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(values[0]) if values else 1
    except ValueError:
        return 1


def _detail_in(payload: Any) -> str:
    """Udemy's error message: `{"detail": "..."}` (Django REST framework)."""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    return detail if isinstance(detail, str) else ""


def _is_envelope(payload: Any) -> bool:
    if not isinstance(payload, dict) or not {"count", "next", "previous", "results"} <= set(
        payload
    ):
        return False
    count, next_url = payload["count"], payload["next"]
    return (
        isinstance(payload["results"], list)
        and (count is None or _is_count(count))
        and (next_url is None or isinstance(next_url, str))
    )


def _is_count(value: Any) -> bool:
    """A page's `count`: a whole number from 0 to MAX_COUNT (a negative or absurd count would
    end as a database error or a progress bar beyond reason)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def _is_invalid_page(exc: UdemyError) -> bool:
    if exc.status != 400:
        return False
    try:
        return _detail_in(json.loads(exc.excerpt)) == INVALID_PAGE
    except ValueError:
        return False


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if "Name or service not known" in text or "NameResolution" in text or "getaddrinfo" in text:
        return "host not found"
    if "refused" in text.lower():
        return "connection refused"
    return "connection error"
