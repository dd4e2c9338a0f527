"""The errors of an upstream API, provider- and platform-neutral, and the connection verdict.

Each side (the Udemy provider, the learning platforms) subclasses these under its own names
(`UdemyAuthError`, `PlatformAuthError`...: run histories record the class name) and hands the
core client its `ErrorFamily.of(its base class)`, so the core raises the side's classes while
engines catch either the side's base class or the neutral one. Every `message` is written for
an admin.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from celery.exceptions import SoftTimeLimitExceeded

# What a best-effort `except Exception` must let through: the worker's soft time limit is raised
# wherever the run happens to be (mapping one item, say) and must end the run as timed out.
INTERRUPTS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded,)


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

    @classmethod
    def of(cls, base: type[ApiError]) -> ErrorFamily:
        """The family of a side: `base` (its `ApiError` subclass) and, for each neutral kind,
        the direct subclass of `base` that is also of that kind (`base` itself when none)."""
        members: dict[str, type[ApiError]] = {"api": base}
        for kind in fields(cls)[1:]:
            neutral = kind.default
            found = [sub for sub in base.__subclasses__() if issubclass(sub, neutral)]
            members[kind.name] = found[0] if found else base
        return cls(**members)


NEUTRAL = ErrorFamily()


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome of "Test connection", ready to show to an admin."""

    ok: bool
    verdict: str  # ok | bad_credentials | not_allowed | not_found | unreachable | bad_response...
    message: str


# What a failed "Test connection" tells the admin, by kind of failure.
VERDICTS: dict[type[ApiError], str] = {
    ConfigError: "not_allowed",
    AuthError: "bad_credentials",
    NotFound: "not_found",
    RetryLater: "rate_limited",
    Unavailable: "unreachable",
    BadResponse: "bad_response",
}


def verdict_for(
    exc: ApiError, overrides: dict[type[ApiError], str] | None = None, default: str = "error"
) -> CredentialCheck:
    """A failed check: the verdict of the kind of `exc` (`overrides` first, then `VERDICTS`)."""
    table = {**(overrides or {}), **VERDICTS}
    verdict = next((v for cls, v in table.items() if isinstance(exc, cls)), default)
    return CredentialCheck(ok=False, verdict=verdict, message=exc.message)
