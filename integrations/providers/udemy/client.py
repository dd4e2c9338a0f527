"""HTTP client for the Udemy Business REST API (api-2.0): base URL, auth, paging, Udemy's errors.

HTTP only: no ORM, no mapping. Reference: the Udemy Business API guide (`Pagination`,
`Authentication Parameters`, "Udemy Business REST API").

The retry loop, timeouts, `Retry-After` cap, backoff and excerpt scrubbing are the core's
(`integrations.core.http`); what is Udemy's stays here:

- the API root `https://{organization_name}.udemy.com/api-2.0/organizations/{id}/`, or an
  override checked against `UDEMY_ALLOWED_API_HOSTS` (no SSRF);
- HTTP Basic auth with the client id and secret, sent as UTF-8;
- the lists and their paging, every list and page bounded (`providers.udemy.pages`);
- the organization's request budget shared with its other syncs, and the pace learnt from its
  429s: the client's `throttle` (`core.throttle.Throttle`, paced) and `core.budget`;
- error messages an organization admin can act on ("Udemy rejected the credentials (401)...").

The secret lives only in the `auth` tuple handed to requests. It never enters a log line, an
exception message or an excerpt (excerpts are scrubbed in case a server echoes it back).
"""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext, gettext_noop

from ...core.budget import BudgetShare, SharedBudget
from ...core.hosts import DNS_LABEL_RE, validated_base_url
from ...core.http import JsonHttpClient
from ...core.http_errors import attempts
from ...core.netutil import RetryBudget, is_loopback_host, setting
from ...core.throttle import Throttle
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
    detail_in,
    verdict_for,
)
from .pages import PagedLists, origin

__all__ = [
    "CredentialCheck",
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

ALLOWED_HOSTS_SETTING = "UDEMY_ALLOWED_API_HOSTS"

_ORG_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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


def build_base_url(
    credentials: UdemyCredentials, allowed_hosts: Sequence[str] | None = None
) -> str:
    """The API root of the organization, validated against the allow-list (no SSRF)."""
    org_id = str(credentials.organization_id).strip()
    if not _ORG_ID_RE.match(org_id):
        raise UdemyConfigError(
            gettext("The organization id %(id)s is not valid: use the numeric id.")
            % {"id": repr(org_id)}
        )
    if credentials.api_base_url:
        return validated_base_url(
            credentials.api_base_url,
            patterns=allowed_hosts or (),
            setting_name=ALLOWED_HOSTS_SETTING,
            error=UdemyConfigError,
            not_allowed=gettext_noop("The API host {host} is not in the allowed list ({setting})."),
        )
    name = credentials.organization_name.strip()
    if not DNS_LABEL_RE.match(name):
        raise UdemyConfigError(
            gettext(
                "The organization name %(name)s is not valid: use the portal name, e.g. 'acme' "
                "for https://acme.udemy.com."
            )
            % {"name": repr(name)}
        )
    return f"https://{name.lower()}.udemy.com/api-2.0/organizations/{org_id}/"


class UdemyClient(PagedLists, JsonHttpClient):
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
        self._origin = origin(self.base_url)
        self.page_concurrency: int | None = None  # None: UDEMY_PAGE_CONCURRENCY
        # The organization's request budget, shared with its other syncs (`core.budget`); what
        # it allows this client caps its throttle.
        self.budget: SharedBudget | None = None

    # ------------------------------------------------------------------ public API

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

    # ------------------------------------------------------------------ pace and budget

    def _new_throttle(self, sleep: Callable[[float], None]) -> Throttle:
        """Paced: the organization's rate, learnt from its 429s, is kept for every scan of this
        client; a scan starts at `configured_concurrency()`."""
        return Throttle(paced=True, configured=self.configured_concurrency, sleep=sleep)

    def budget_share(self) -> BudgetShare | None:
        """A scan's share of the organization's budget (None when it is not shared)."""
        if self.budget is None:
            return None
        return BudgetShare(self.budget, self)

    # ------------------------------------------------------------------ Udemy's messages

    def _detail(self, payload: Any) -> str:
        return detail_in(payload)

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


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if "Name or service not known" in text or "NameResolution" in text or "getaddrinfo" in text:
        return "host not found"
    if "refused" in text.lower():
        return "connection refused"
    return "connection error"
