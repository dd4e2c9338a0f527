"""The errors of an upstream API, provider- and platform-neutral, and the connection verdict.

Each side (the Udemy provider, the learning platforms) subclasses these under its own names
(`UdemyAuthError`, `PlatformAuthError`...: run histories record the class name) and hands the
core client its `ErrorFamily`, so the core raises the side's classes while engines can catch
either the side's base class or the neutral one. Every `message` is written for an admin.
"""

from __future__ import annotations

from dataclasses import dataclass


class ApiError(Exception):
    """Any failure talking to an upstream API. `message` is written for an admin."""

    def __init__(self, message: str, *, status: int | None = None, excerpt: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.excerpt = excerpt


class ConfigError(ApiError):
    """The connection settings are not acceptable (host not allowed, malformed value...)."""


class AuthError(ApiError):
    """401/403 or an auth error code: retrying cannot help, the admin must fix the keys."""


class NotFound(ApiError):
    """404 (or a redirect away from the API): the account, domain or object does not exist."""


class Rejected(ApiError):
    """The API refused one request (400/409/410/422): the run records it and goes on."""


class RetryLater(ApiError):
    """Rate-limited for longer than a worker may block (or retries exhausted): reschedule."""

    def __init__(
        self, message: str, *, retry_after: float, status: int | None = 429, excerpt: str = ""
    ) -> None:
        super().__init__(message, status=status, excerpt=excerpt)
        self.retry_after = retry_after


class Unavailable(ApiError):
    """5xx, connection error or timeout that outlived every retry."""


class BadResponse(ApiError):
    """A body that is not the documented JSON (HTML, truncated, wrong envelope)."""


@dataclass(frozen=True)
class ErrorFamily:
    """The classes one side raises for each neutral kind of failure."""

    api: type[ApiError] = ApiError
    config: type[ApiError] = ConfigError
    auth: type[ApiError] = AuthError
    not_found: type[ApiError] = NotFound
    rejected: type[ApiError] = Rejected
    retry_later: type[RetryLater] = RetryLater
    unavailable: type[ApiError] = Unavailable
    bad_response: type[ApiError] = BadResponse


NEUTRAL = ErrorFamily()


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome of "Test connection", ready to show to an admin."""

    ok: bool
    verdict: str  # ok | bad_credentials | not_allowed | not_found | unreachable | bad_response...
    message: str


def verdict_for(
    exc: ApiError, verdicts: list[tuple[type[ApiError], str]], default: str = "error"
) -> CredentialCheck:
    """A failed check: the verdict of the first class in `verdicts` that `exc` is an instance of."""
    verdict = next((v for cls, v in verdicts if isinstance(exc, cls)), default)
    return CredentialCheck(ok=False, verdict=verdict, message=exc.message)
