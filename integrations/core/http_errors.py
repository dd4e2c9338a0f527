"""What `core.http.JsonHttpClient` says of a failed call: the error class of an HTTP status,
the admin's messages (rate limit, network, 5xx), and the safe quotes of upstream text.

A mixin of the client: a side's client overrides these hooks (`_detail` to find the vendor's
message in its error bodies, `_http_error` for its own codes, the messages in its words) next
to the transport ones. Whatever of an answer is kept or quoted goes through `core.scrub` first:
upstream prose may echo the credentials or carry a link.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from .errors import ApiError, ErrorFamily
from .netutil import RetryBudget, human_wait, setting
from .scrub import scrub_secrets, upstream_excerpt


def attempts(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


def short_reason(exc: Exception) -> str:
    """A transport failure in a few words, for the log."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.Timeout):
        return "read timeout"
    return type(exc).__name__


class FailureMessages:
    """The error classes and messages of `JsonHttpClient` (which sets the attributes below)."""

    vendor: str
    errors: ErrorFamily
    host: str
    read_timeout: float
    excerpt_chars: int
    detail_chars: int
    _secrets: tuple[str, ...]

    def _detail(self, payload: Any) -> str:
        """The vendor's error message in a JSON error body ('' when none)."""
        return ""

    def _rate_limited_message(self, wait: float, budget: RetryBudget, *, still: bool) -> str:
        if still:
            return (
                f"{self.vendor} is still rate-limiting requests (429) after {budget.made} attempts."
            )
        return (
            f"{self.vendor} is rate-limiting requests (429) for {self._human_wait(wait)}: the run "
            "continues later."
        )

    @staticmethod
    def _human_wait(seconds: float) -> str:
        """A wait in an admin's units; past `RUN_MAX_WAIT`, "more than 6 hours" (the run will
        not wait that long anyway)."""
        return human_wait(seconds, beyond=float(setting("RUN_MAX_WAIT", 6 * 3600)))

    def _network_message(self, exc: Exception, budget: RetryBudget) -> str:
        after = f"after {attempts(budget.made)}"
        if isinstance(exc, requests.ConnectTimeout):
            return f"{self.vendor} at {self.host} did not accept a connection ({after})."
        if isinstance(exc, requests.Timeout):
            return f"{self.vendor} did not answer within {self.read_timeout:g} s ({after})."
        return f"{self.vendor} at {self.host} could not be reached ({after})."

    def _unavailable(self, response: requests.Response, budget: RetryBudget) -> ApiError:
        """The error of a 5xx that is retried (raised once the retries are spent)."""
        return self._http_error(response)

    def _http_error(self, response: requests.Response) -> ApiError:
        status, errors = response.status_code, self.errors
        detail = self._detail_of(response.text)
        reason = f": {detail}" if detail else ""
        if status in (401, 403):
            cls = errors.auth
            msg = f"{self.vendor} rejected the API credentials ({status}{reason})."
        elif status == 404:
            cls, msg = errors.not_found, f"{self.vendor} answered 404 (not found{reason})."
        elif 300 <= status < 400:
            cls, msg = errors.not_found, f"{self.vendor} redirected the request ({status})."
        elif status in (400, 409, 410, 422):
            cls, msg = errors.rejected, f"{self.vendor} refused the request ({status}{reason})."
        elif status >= 500:
            cls, msg = errors.unavailable, f"{self.vendor} answered {status}{reason}."
        else:
            cls, msg = errors.api, f"{self.vendor} answered {status}{reason}."
        return cls(msg, status=status, excerpt=self._excerpt(response.text))

    def _detail_of(self, text: str) -> str:
        """The vendor's error message of a body as an excerpt ('' when none): it is upstream
        prose that may carry our input, so no run of a secret in any shape, one line, no link,
        at most `detail_chars` characters (`core.scrub.upstream_excerpt`)."""
        try:
            payload = json.loads(text)
        except ValueError:
            return ""
        detail = self._detail(payload)
        return self._quote(detail).rstrip(".") if isinstance(detail, str) else ""

    def _quote(self, text: str) -> str:
        """Upstream words (an error detail or code) as a message may quote them: no run of a
        secret in any shape, one line, no link, at most `detail_chars` characters."""
        return upstream_excerpt(text, secrets=self._secrets, limit=self.detail_chars, links=False)

    def _scrub(self, text: str) -> str:
        """`text` without any run of the credentials, in any shape (`core.scrub`)."""
        return scrub_secrets(text, self._secrets)

    def _excerpt(self, text: str) -> str:
        """The start of a body for the run history: one line, bounded, with any echo of the
        credentials (cut, re-encoded) and any Authorization value removed."""
        return upstream_excerpt(text, secrets=self._secrets, limit=self.excerpt_chars)
