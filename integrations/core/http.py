"""JSON over HTTP for the platform clients: timeouts, bounded retries, 429, error classes.

HTTP only: no ORM, no mapping. The same choices as the Udemy client, each guarding a known trap:

- A hand-written retry loop, not urllib3's `Retry` (which sleeps for whatever `Retry-After` says
  and ignores `backoff_max` then): a `Retry-After` above `retry_after_cap` raises
  `PlatformRetryLater` so the task is rescheduled instead of blocking a worker.
- Bodies are decoded with `json.loads`; any failure is `PlatformBadResponse` (requests'
  `JSONDecodeError` is a `RequestException`: a generic retry would loop on an HTML page).
- Writes are retried only when the platform cannot have processed them (429, 503, connect
  timeout): a create retried after a read timeout could create the item twice.
- Secrets live only in the auth tuple/header handed to requests; excerpts are scrubbed, and
  exceptions are raised `from None` (a chained requests error carries the Authorization header).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from ..netutil import RetryBudget, full_jitter_backoff, retry_after_seconds
from .base import (
    PlatformApiError,
    PlatformAuthError,
    PlatformBadResponse,
    PlatformNotFound,
    PlatformRejected,
    PlatformRetryLater,
    PlatformUnavailable,
)
from .hosts import _setting, is_loopback_host

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 300
RETRY_STATUSES = frozenset({500, 502, 503, 504})
SAFE_WRITE_RETRY_STATUSES = frozenset({503})  # "not processed, come back": safe for writes too
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TRANSIENT = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class Result:
    """A decoded 2xx answer."""

    status: int
    payload: Any
    headers: Mapping[str, str]


class JsonHttpClient:
    """Base of the platform clients. Subclasses set `vendor`, auth, and may override
    `_after_response` (rate-limit headers), `_default_429_wait` and `_detail` (error bodies)."""

    vendor = "The platform"
    settings_prefix = "PLATFORM"

    def __init__(
        self,
        base_url: str,
        *,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_retries: int | None = None,
        retry_after_cap: float | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self.connect_timeout = float(_opt(connect_timeout, "PLATFORM_CONNECT_TIMEOUT", 5.0))
        self.read_timeout = float(_opt(read_timeout, "PLATFORM_READ_TIMEOUT", 60.0))
        self.max_retries = max(0, int(_opt(max_retries, "PLATFORM_MAX_RETRIES", 5)))
        self.retry_after_cap = float(_opt(retry_after_cap, "PLATFORM_RETRY_AFTER_CAP", 60.0))
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.request_count = 0
        self.write_count = 0
        self.waits: list[float] = []
        self._sleep = sleep
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self._own_session = session is None
        self._session = session or requests.Session()
        self._auth = auth
        self._headers = {"Accept": "application/json", **(headers or {})}
        self._secrets = tuple(s for s in secrets if s)
        host = (urlsplit(base_url).hostname or "").lower()
        self.host = host
        # Loopback (sandbox) traffic must never go through an environment proxy.
        self._proxies = {"http": None, "https": None} if is_loopback_host(host) else None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def waited_seconds(self) -> float:
        return round(sum(self.waits), 3)

    # ------------------------------------------------------------------ one call, with retries

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        max_retries: int | None = None,
        retry_after_cap: float | None = None,
    ) -> Result:
        """Send one request (retrying what is safe to retry) and decode its JSON answer."""
        url = self.base_url + path + (f"?{urlencode(params)}" if params else "")
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        budget = RetryBudget(
            self.max_retries if max_retries is None else max_retries,
            self.retry_after_cap if retry_after_cap is None else retry_after_cap,
        )
        while True:
            budget.made += 1
            try:
                response = self._send(method, url, body)
            except _TRANSIENT as exc:
                self._transient(method, path, exc, budget, idempotent)
                continue
            self._after_response(response)
            status = response.status_code
            if status == 429:
                self._handle_429(method, path, response, budget)
            elif status in RETRY_STATUSES and (idempotent or status in SAFE_WRITE_RETRY_STATUSES):
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                self._retry_or_raise(
                    method, path, budget, self._http_error(response), str(status), retry_after
                )
            elif 200 <= status < 300:
                return Result(status, self._decode(response), response.headers)
            else:
                raise self._http_error(response)

    def _send(self, method: str, url: str, body: Any) -> requests.Response:
        self.request_count += 1
        if method in WRITE_METHODS:
            self.write_count += 1
        data = None if body is None else json.dumps(body)
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self._session.request(
                method,
                url,
                data=data,
                auth=self._auth,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,  # a redirect would carry our credentials elsewhere
                proxies=self._proxies,
            )
        except _TRANSIENT:
            raise
        except requests.RequestException as exc:
            raise PlatformUnavailable(
                f"The request to {self.vendor} failed ({type(exc).__name__})."
            ) from None

    def _transient(
        self, method: str, path: str, exc: Exception, budget: RetryBudget, idempotent: bool
    ) -> None:
        error = PlatformUnavailable(self._network_message(exc, budget))
        if isinstance(exc, requests.exceptions.SSLError):
            raise error from None  # a certificate problem does not heal by retrying
        # A write whose connection broke after sending may have been processed: don't resend.
        if not idempotent and not isinstance(exc, requests.ConnectTimeout):
            raise error from None
        self._retry_or_raise(method, path, budget, error, type(exc).__name__)

    def _handle_429(
        self, method: str, path: str, response: requests.Response, budget: RetryBudget
    ) -> None:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        wait = retry_after if retry_after is not None else self._default_429_wait(budget.made)
        excerpt = self._excerpt(response.text)
        if wait > budget.retry_after_cap:
            raise PlatformRetryLater(
                f"{self.vendor} is rate-limiting requests (429) for {wait:g} s: the run "
                "continues later.",
                retry_after=wait,
                excerpt=excerpt,
            )
        if budget.exhausted:
            raise PlatformRetryLater(
                f"{self.vendor} is still rate-limiting requests (429) after {budget.made} "
                "attempts.",
                retry_after=max(wait, 1.0),
                excerpt=excerpt,
            )
        self.wait(f"{method} {path}: 429", wait)

    def _retry_or_raise(
        self,
        method: str,
        path: str,
        budget: RetryBudget,
        error: PlatformApiError,
        why: str,
        retry_after: float | None = None,
    ) -> None:
        if budget.exhausted:
            raise error from None
        wait = self._backoff(budget.made)
        if retry_after is not None and retry_after <= budget.retry_after_cap:
            wait = retry_after
        self.wait(f"{method} {path}: {why}, retry {budget.made}/{budget.max_retries}", wait)

    def _backoff(self, attempt: int) -> float:
        return full_jitter_backoff(
            attempt, base=self.backoff_base, ceiling=self.backoff_max, rng=self._random
        )

    def wait(self, why: str, seconds: float) -> None:
        """Sleep (recorded in `waits`): the run reports how long the platform slowed it."""
        logger.warning("%s %s; waiting %.2f s", self.vendor, why, seconds)
        self.waits.append(seconds)
        if seconds > 0:
            self._sleep(seconds)

    # ------------------------------------------------------------------ hooks

    def _after_response(self, response: requests.Response) -> None:
        """Called on every response (rate-limit headers)."""

    def _default_429_wait(self, attempt: int) -> float:
        return self._backoff(attempt) + 1.0

    def _detail(self, payload: Any) -> str:
        """The vendor's error message in a JSON error body ('' when none)."""
        return ""

    # ------------------------------------------------------------------ classification

    def _decode(self, response: requests.Response) -> Any:
        if not response.content.strip():
            return {}
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            ctype = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise PlatformBadResponse(
                f"{self.vendor} answered with a body that is not JSON ({ctype}).",
                status=response.status_code,
                excerpt=self._excerpt(response.text),
            ) from None

    def _http_error(self, response: requests.Response) -> PlatformApiError:
        status = response.status_code
        detail = self._detail_of(response.text)
        reason = f": {detail}" if detail else ""
        excerpt = self._excerpt(response.text)
        if status in (401, 403):
            cls = PlatformAuthError
            msg = f"{self.vendor} rejected the API credentials ({status}{reason})."
        elif status == 404:
            cls, msg = PlatformNotFound, f"{self.vendor} answered 404 (not found{reason})."
        elif 300 <= status < 400:
            cls, msg = PlatformNotFound, f"{self.vendor} redirected the request ({status})."
        elif status in (400, 409, 410, 422):
            cls, msg = PlatformRejected, f"{self.vendor} refused the request ({status}{reason})."
        elif status >= 500:
            cls, msg = PlatformUnavailable, f"{self.vendor} answered {status}{reason}."
        else:
            cls, msg = PlatformApiError, f"{self.vendor} answered {status}{reason}."
        return cls(msg, status=status, excerpt=excerpt)

    def _detail_of(self, text: str) -> str:
        try:
            payload = json.loads(text)
        except ValueError:
            return ""
        detail = self._detail(payload)
        return self._scrub(detail.rstrip("."))[:300] if isinstance(detail, str) else ""

    def _network_message(self, exc: Exception, budget: RetryBudget) -> str:
        attempts = f"after {budget.made} attempt{'s' if budget.made != 1 else ''}"
        if isinstance(exc, requests.ConnectTimeout):
            return f"{self.vendor} at {self.host} did not accept a connection ({attempts})."
        if isinstance(exc, requests.Timeout):
            return f"{self.vendor} did not answer within {self.read_timeout:g} s ({attempts})."
        return f"{self.vendor} at {self.host} could not be reached ({attempts})."

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _excerpt(self, text: str) -> str:
        """The start of a body for the run history, with any echo of the credentials removed."""
        return self._scrub(text[: EXCERPT_CHARS * 4])[:EXCERPT_CHARS]


def _opt(value: Any, setting: str, fallback: Any) -> Any:
    return _setting(setting, fallback) if value is None else value
