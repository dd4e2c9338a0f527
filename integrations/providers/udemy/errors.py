"""The Udemy client's errors: the core classes under Udemy names, and the credential verdicts.

Each class is the neutral kind first (`core.AuthError`), then `UdemyError`: `except UdemyError`
and `except core.AuthError` both catch a `UdemyAuthError`. The sync records an error's class
name as its category ("UdemyUnavailable"...); the run executor catches the neutral classes
(`integrations.core.execute`).
"""

from __future__ import annotations

from typing import Any

from ...core import errors as core
from ...core.errors import CredentialCheck


class UdemyError(core.ApiError):
    """Any failure talking to Udemy. `message` is written for an organization admin."""


class UdemyConfigError(core.ConfigError, UdemyError):
    """The configured base URL is not acceptable (host not allowed, plain http off loopback)."""


class UdemyAuthError(core.AuthError, UdemyError):
    """401/403: retrying cannot help; the admin must fix the credentials or the API access."""


class UdemyNotFound(core.NotFound, UdemyError):
    """404 (or a redirect away from the API): wrong organization name or id."""


class UdemyRetryLater(core.RetryLater, UdemyError):
    """429 whose `Retry-After` exceeds the cap (or retries exhausted): reschedule after it."""


class UdemyUnavailable(core.Unavailable, UdemyError):
    """5xx, connection error or timeout that outlived every retry."""


class UdemyBadResponse(core.BadResponse, UdemyError):
    """A body that is not the documented JSON envelope (HTML, truncated, garbled)."""


def detail_in(payload: Any) -> str:
    """Udemy's error message: `{"detail": "..."}` (Django REST framework)."""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    return detail if isinstance(detail, str) else ""


# A refused read (400 "Invalid page.") has no class of its own: it is a plain `UdemyError`.
UDEMY_ERRORS = core.ErrorFamily.of(UdemyError)

# Where Udemy's verdicts differ from the core's (`core.VERDICTS`).
VERDICTS: dict[type[core.ApiError], str] = {
    UdemyNotFound: "wrong_organization",
    UdemyRetryLater: "unreachable",
}


def verdict_for(exc: UdemyError) -> CredentialCheck:
    """A failed credential check; 401 and 403 tell the admin different things to fix."""
    if isinstance(exc, UdemyAuthError):
        verdict = "bad_credentials" if exc.status == 401 else "no_api_access"
        return CredentialCheck(ok=False, verdict=verdict, message=exc.message)
    return core.verdict_for(exc, VERDICTS, default="bad_response")
