"""JSON over HTTP for every connector: timeouts, bounded retries, 429, error classes.

HTTP only: no ORM, no mapping. Each choice guards a known trap:

- A hand-written retry loop, not urllib3's `Retry` (which sleeps in-process for whatever
  `Retry-After` says, up to hours, and ignores `backoff_max` then): a `Retry-After` above
  `retry_after_cap` raises the side's `RetryLater` at once, so the task is rescheduled instead
  of blocking a worker. 5xx and network errors retry with exponential backoff and full jitter.
- Bodies are read bounded in size and time, then decoded (`core.response_body`): a read whose
  body is truncated, empty or not JSON is retried like a 5xx, then raises `BadResponse`.
- Writes are retried only when the server cannot have processed them (429, 503, connect
  timeout): a create retried after a read timeout could create the item twice.
- Secrets live only in the auth tuple/header handed to requests; excerpts and messages are
  scrubbed, and errors are raised `from None` (a chained requests error carries the prepared
  request, Authorization header included, into tracebacks and error reports).
- No redirects (they would carry the credentials elsewhere), and loopback (sandbox) traffic
  never goes through an environment proxy.

How fast requests go is the client's `throttle`'s to say (`core.throttle.Throttle`): a 429's
`Retry-After` pause (shared by every request while a scan or a shared budget holds it), and, for
a side that builds its own (`_new_throttle`), a pace learnt from 429s and a concurrent scan's
in-flight limit.

A side subclasses `JsonHttpClient`: `vendor` (the name in messages), `errors` (its
`ErrorFamily`), `settings_prefix` (`{prefix}_CONNECT_TIMEOUT`, `_READ_TIMEOUT`, `_MAX_RETRIES`,
`_RETRY_AFTER_CAP`), auth, and the hooks below and in `core.http_errors` for its error bodies
and messages.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from . import metrics
from .errors import NEUTRAL, ApiError, ErrorFamily
from .http_errors import FailureMessages, short_reason
from .netutil import (
    RetryBudget,
    full_jitter_backoff,
    is_loopback_host,
    retry_after_seconds,
    setting_or,
)
from .response_body import decode_json, read_body
from .throttle import PauseTooLong, Throttle

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})
SAFE_WRITE_RETRY_STATUSES = frozenset({503})  # "not processed, come back": safe for writes too
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TRANSIENT = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,  # connection cut mid-body
)


@dataclass(frozen=True)
class Result:
    """A decoded 2xx answer."""

    status: int
    payload: Any
    headers: Mapping[str, str]


class JsonHttpClient(FailureMessages):
    """One upstream API at `base_url`; `waits` records every pause (throttle, 429, retry);
    `throttle` (`core.throttle.Throttle`) paces its requests and holds a 429's pause."""

    vendor = "The service"
    errors: ErrorFamily = NEUTRAL
    settings_prefix = "HTTP"
    excerpt_chars = 300
    detail_chars = 200  # of the vendor's error message quoted in ours
    query_safe = ""  # characters left unquoted in query strings (Udemy's "fields[courses]=@all")
    # Whether a 429 without `Retry-After` is capped too (our own wait may be long: LearnUpon
    # waits for the next minute), or only a wait the server announces.
    cap_own_429_wait = True
    log_query = False  # queries may carry personal data (an e-mail search): paths only

    def __init__(
        self,
        base_url: str,
        *,
        auth: tuple[Any, Any] | None = None,
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
        prefix = self.settings_prefix
        self.base_url = base_url
        self.connect_timeout = float(setting_or(connect_timeout, f"{prefix}_CONNECT_TIMEOUT", 5.0))
        self.read_timeout = float(setting_or(read_timeout, f"{prefix}_READ_TIMEOUT", 60.0))
        self.max_retries = max(0, int(setting_or(max_retries, f"{prefix}_MAX_RETRIES", 5)))
        self.retry_after_cap = float(setting_or(retry_after_cap, f"{prefix}_RETRY_AFTER_CAP", 60.0))
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.request_count = 0
        self.write_count = 0
        self.waits: list[float] = []
        # Told of every wait as it starts (what, seconds, reason): a run shows it live.
        self.on_wait: Callable[[str, float, str], None] | None = None
        # Pages may be fetched from several threads: counters under a lock; the pace, the
        # requests in flight and a 429's pause are the throttle's (`core.throttle`).
        self._counters = threading.Lock()
        self._body_limit = threading.local()  # this thread's request's own body limit, if any
        self._sleep = sleep
        self.throttle = self._new_throttle(sleep)
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self._own_session = session is None
        self._session = session or requests.Session()
        self._auth = auth
        self._headers = {"Accept": "application/json", **(headers or {})}
        # Removed, in any shape, from what is kept of an answer (`core.scrub`).
        self._secrets = tuple(s for s in secrets if s)
        self.host = (urlsplit(base_url).hostname or "").lower()
        # Loopback (sandbox) traffic must never go through an environment proxy.
        self._proxies = {"http": None, "https": None} if is_loopback_host(self.host) else None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _new_throttle(self, sleep: Callable[[float], None]) -> Throttle:
        """This client's throttle: the `Retry-After` pause only (a side that paces its requests
        or scans pages concurrently builds its own)."""
        return Throttle(sleep=sleep)

    @property
    def throttled(self) -> int:
        """429s answered."""
        return self.throttle.refusals

    @property
    def waited_seconds(self) -> float:
        return round(sum(self.waits), 3)

    @contextmanager
    def within_a_web_request(self) -> Iterator[None]:
        """At most one retry and no `Retry-After` waited out: the caller is a web request
        ("Test connection") that must answer quickly."""
        saved = self.max_retries, self.retry_after_cap
        self.max_retries, self.retry_after_cap = min(self.max_retries, 1), 0.0
        try:
            yield
        finally:
            self.max_retries, self.retry_after_cap = saved

    # ------------------------------------------------------------------ one call, with retries

    def url_for(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = f"?{urlencode(params, safe=self.query_safe)}" if params else ""
        return self.base_url + path + query

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
        """Send one request to `base_url + path` and decode its JSON answer."""
        budget = RetryBudget(
            self.max_retries if max_retries is None else max_retries,
            self.retry_after_cap if retry_after_cap is None else retry_after_cap,
        )
        url = self.url_for(path, params)
        return self.request(method, url, body=body, idempotent=idempotent, budget=budget)

    def request(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        idempotent: bool | None = None,
        budget: RetryBudget | None = None,
        max_body: int | None = None,
        check_body: Callable[[bytes], None] | None = None,
    ) -> Result:
        """Send one request to an absolute URL, retrying what is safe to retry. `max_body`:
        the largest body (bytes, decompressed) this call reads, below `UPSTREAM_MAX_BODY_MB`
        (a page of a list weighs far less than the largest answer an upstream may send).
        `check_body`: called with a 2xx body before it is decoded; what it raises is final
        (never retried): a body refused before its JSON is built in memory."""
        self._body_limit.bytes, self._body_limit.check = max_body, check_body
        try:
            return self._request(method, url, body=body, idempotent=idempotent, budget=budget)
        finally:
            self._body_limit.bytes = self._body_limit.check = None

    def _request(
        self, method: str, url: str, *, body: Any, idempotent: bool | None,
        budget: RetryBudget | None,
    ) -> Result:  # fmt: skip
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        budget = budget or RetryBudget(self.max_retries, self.retry_after_cap)
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query and self.log_query else ""
        label = f"{method} {parts.path}{query}"
        while True:
            budget.made += 1
            try:
                response = self._send(method, url, body)
            except TRANSIENT as exc:
                metrics.record_no_answer(self.vendor)
                self._transient(label, exc, budget, idempotent)
                continue
            status = response.status_code
            metrics.record_response(self.vendor, status)
            self.throttle.answered(status, _elapsed(response))
            self._after_response(response)
            if status == 429:
                self._handle_429(label, response, budget)
            elif status in RETRY_STATUSES and (idempotent or status in SAFE_WRITE_RETRY_STATUSES):
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                error = self._unavailable(response, budget)
                self._retry_or_raise(label, budget, error, str(status), retry_after)
            elif 200 <= status < 300:
                if check := getattr(self._body_limit, "check", None):
                    check(response.content)
                try:
                    payload = decode_json(
                        response, method, vendor=self.vendor, errors=self.errors,
                        excerpt=self._excerpt,
                    )  # fmt: skip
                except ApiError as error:
                    # A truncated, empty or non-JSON body (an HTML page with 200 from a proxy) is
                    # a passing fault like a 5xx: the same budget and backoff, reads only.
                    if not idempotent:
                        raise
                    self._retry_or_raise(label, budget, error, "body not JSON")
                    continue
                return Result(status, payload, response.headers)
            else:
                raise self._http_error(response)

    def _send(self, method: str, url: str, body: Any) -> requests.Response:
        try:
            self.throttle.before_send(self.retry_after_cap)
        except PauseTooLong as paused:
            budget = RetryBudget(0, self.retry_after_cap)
            raise self.errors.retry_later(
                self._rate_limited_message(paused.seconds, budget, still=False),
                retry_after=paused.seconds,
            ) from None
        with self._counters:
            self.request_count += 1
            if method in WRITE_METHODS:
                self.write_count += 1
        data = None if body is None else json.dumps(body)
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        with self.throttle.in_flight():
            return self._on_the_wire(method, url, data, headers)

    def _on_the_wire(
        self, method: str, url: str, data: str | None, headers: dict[str, str]
    ) -> requests.Response:
        try:
            response = self._session.request(
                method,
                url,
                data=data,
                auth=self._auth,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,  # a redirect would carry our credentials elsewhere
                proxies=self._proxies,
                stream=True,  # the body is read by `read_body`, bounded
            )
            own_limit = getattr(self._body_limit, "bytes", None)
            read_body(response, vendor=self.vendor, errors=self.errors, own_limit=own_limit)
            return response
        except TRANSIENT:
            raise
        except requests.RequestException as exc:
            # Anything else (invalid URL, bad header...) will not heal by retrying.
            raise self.errors.unavailable(
                f"The request to {self.vendor} failed ({type(exc).__name__})."
            ) from None

    def _transient(self, label: str, exc: Exception, budget: RetryBudget, idempotent: bool) -> None:
        error = self.errors.unavailable(self._network_message(exc, budget))
        if isinstance(exc, requests.exceptions.SSLError):
            raise error from None  # a certificate problem does not heal by retrying
        # A write whose connection broke after sending may have been processed: don't resend.
        if not idempotent and not isinstance(exc, requests.ConnectTimeout):
            raise error from None
        self._retry_or_raise(label, budget, error, short_reason(exc))

    def _handle_429(self, label: str, response: requests.Response, budget: RetryBudget) -> None:
        announced = retry_after_seconds(response.headers.get("Retry-After"))
        wait = announced if announced is not None else self._default_429_wait(budget.made)
        capped = wait if self.cap_own_429_wait else announced
        excerpt = self._excerpt(response.text)
        retry_later = self.errors.retry_later
        if capped is not None and capped > budget.retry_after_cap:
            self.throttle.pause(wait)  # the other requests of the account stop too (if shared)
            message = self._rate_limited_message(wait, budget, still=False)
            raise retry_later(message, retry_after=wait, excerpt=excerpt)
        if budget.exhausted:
            message = self._rate_limited_message(wait, budget, still=True)
            raise retry_later(message, retry_after=max(wait, 1.0), excerpt=excerpt)
        self.throttle.pause(wait, here=True)  # this thread sleeps it out just below
        self.wait(f"{label}: 429, retry {budget.made}/{budget.max_retries}", wait, "rate_limit")

    def _retry_or_raise(
        self,
        label: str,
        budget: RetryBudget,
        error: ApiError,
        why: str,
        retry_after: float | None = None,
    ) -> None:
        if budget.exhausted:
            raise error from None
        wait = self._backoff(budget.made)
        # A 503 may say when to come back: honour it when it is within the cap.
        if retry_after is not None and retry_after <= budget.retry_after_cap:
            wait = retry_after
        self.wait(f"{label}: {why}, retry {budget.made}/{budget.max_retries}", wait, "retry")

    def _backoff(self, attempt: int) -> float:
        return full_jitter_backoff(
            attempt, base=self.backoff_base, ceiling=self.backoff_max, rng=self._random
        )

    def wait(self, why: str, seconds: float, reason: str = "other") -> None:
        """Sleep (recorded in `waits`): the run reports how long the upstream slowed it.
        `reason` is the metric's label (`core.metrics.WAIT_REASONS`)."""
        logger.warning("%s %s; waiting %.2f s", self.vendor, why, seconds)
        self.waits.append(seconds)
        metrics.record_wait(self.vendor, reason, seconds)
        if self.on_wait is not None and seconds > 0:
            try:
                self.on_wait(why, seconds, reason)
            except Exception:  # telling it must never stop the wait or the request
                logger.warning("%s wait not recorded", self.vendor, exc_info=True)
        if seconds > 0:
            self._sleep(seconds)

    # ------------------------------------------------------------------ hooks

    def _after_response(self, response: requests.Response) -> None:
        """Called on every response (rate-limit headers)."""

    def _default_429_wait(self, attempt: int) -> float:
        return self._backoff(attempt) + 1.0


def _elapsed(response: requests.Response) -> float:
    """Seconds from sending the request until its headers came back (0 when unknown)."""
    elapsed = getattr(response, "elapsed", None)
    return elapsed.total_seconds() if elapsed is not None else 0.0
