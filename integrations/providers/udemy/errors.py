"""The Udemy client's errors: the core classes under Udemy names, and the credential verdicts.

The sync records an error's class name as its category ("UdemyUnavailable"...); the services
catch `UdemyError` (see `provider.ProviderError`).
"""

from __future__ import annotations

from ...core import errors as core
from ...core.errors import CredentialCheck


class UdemyError(core.ApiError):
    """Any failure talking to Udemy. `message` is written for an organization admin."""


class UdemyConfigError(UdemyError, core.ConfigError):
    """The configured base URL is not acceptable (host not allowed, plain http off loopback)."""


class UdemyAuthError(UdemyError, core.AuthError):
    """401/403: retrying cannot help; the admin must fix the credentials or the API access."""


class UdemyNotFound(UdemyError, core.NotFound):
    """404 (or a redirect away from the API): wrong organization name or id."""


class UdemyRetryLater(UdemyError, core.RetryLater):
    """429 whose `Retry-After` exceeds the cap (or retries exhausted): reschedule after it."""


class UdemyUnavailable(UdemyError, core.Unavailable):
    """5xx, connection error or timeout that outlived every retry."""


class UdemyBadResponse(UdemyError, core.BadResponse):
    """A body that is not the documented JSON envelope (HTML, truncated, garbled)."""


UDEMY_ERRORS = core.ErrorFamily(
    api=UdemyError,
    config=UdemyConfigError,
    auth=UdemyAuthError,
    not_found=UdemyNotFound,
    rejected=UdemyError,  # a refused read (400 "Invalid page.") has no class of its own
    retry_later=UdemyRetryLater,
    unavailable=UdemyUnavailable,
    bad_response=UdemyBadResponse,
)

VERDICTS: list[tuple[type[core.ApiError], str]] = [
    (UdemyConfigError, "not_allowed"),
    (UdemyNotFound, "wrong_organization"),
    (UdemyRetryLater, "unreachable"),
    (UdemyUnavailable, "unreachable"),
    (UdemyBadResponse, "bad_response"),
]


def verdict_for(exc: UdemyError) -> CredentialCheck:
    """A failed credential check; 401 and 403 tell the admin different things to fix."""
    if isinstance(exc, UdemyAuthError):
        verdict = "bad_credentials" if exc.status == 401 else "no_api_access"
        return CredentialCheck(ok=False, verdict=verdict, message=exc.message)
    return core.verdict_for(exc, VERDICTS, default="bad_response")
