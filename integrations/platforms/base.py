"""What every platform connector shares: errors, the connection verdict, directory records.

A kind's `connector` module exposes (see `learnupon/connector.py`, `coursebase/connector.py`):

- `make_client(connection)` → a client usable as a context manager;
- `check_connection(connection)` → `CredentialCheck` (never raises);
- `directory_source(connection, client)` → `DirectorySource`;
- for kinds with `push=True` in the registry, `push_courses(...)`/`push_completions(...)` helpers
  used by `integrations.platforms.push`.

Clients raise the `PlatformApiError` subclasses below with messages written for a group admin; the
engines catch the provider-neutral classes and never look at vendor details.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------- errors


class PlatformApiError(Exception):
    """Any failure talking to a platform. `message` is written for a group admin."""

    def __init__(self, message: str, *, status: int | None = None, excerpt: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.excerpt = excerpt


class PlatformConfigError(PlatformApiError):
    """The connection settings are not acceptable (host not allowed, missing field...)."""


class PlatformAuthError(PlatformApiError):
    """401/403 or an auth error code: retrying cannot help, the admin must fix the keys."""


class PlatformNotFound(PlatformApiError):
    """404: the portal, domain or object does not exist."""


class PlatformRejected(PlatformApiError):
    """The platform refused one item (400/404/409/422 on a write): the run records it, goes on."""


class PlatformRetryLater(PlatformApiError):
    """Rate-limited for longer than the client may block a worker: reschedule after it."""

    def __init__(
        self, message: str, *, retry_after: float, status: int | None = 429, excerpt: str = ""
    ) -> None:
        super().__init__(message, status=status, excerpt=excerpt)
        self.retry_after = retry_after


class PlatformUnavailable(PlatformApiError):
    """5xx, connection error or timeout that outlived every retry."""


class PlatformBadResponse(PlatformApiError):
    """A body that is not the documented JSON (HTML, truncated, wrong envelope)."""


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome of "Test connection", ready to show to an admin."""

    ok: bool
    verdict: str  # ok | bad_credentials | not_allowed | not_found | unreachable | bad_response...
    message: str


VERDICTS: list[tuple[type[PlatformApiError], str]] = [
    (PlatformConfigError, "not_allowed"),
    (PlatformAuthError, "bad_credentials"),
    (PlatformNotFound, "not_found"),
    (PlatformRetryLater, "rate_limited"),
    (PlatformUnavailable, "unreachable"),
    (PlatformBadResponse, "bad_response"),
]


def verdict_for(exc: PlatformApiError) -> CredentialCheck:
    """A failed check's verdict, from the class of the client's error."""
    verdict = next((v for cls, v in VERDICTS if isinstance(exc, cls)), "error")
    return CredentialCheck(ok=False, verdict=verdict, message=exc.message)


# --------------------------------------------------------------------------- directory records


@dataclass(frozen=True)
class RemoteGroup:
    remote_id: str
    name: str
    parent_id: str | None = None  # None: a top-level group of the platform


@dataclass(frozen=True)
class RemoteUser:
    remote_id: str
    email: str  # lower-cased: learners are matched case-insensitively
    first_name: str = ""
    last_name: str = ""
    active: bool = True


@dataclass(frozen=True)
class RemoteMember:
    """One user of a group's member list (only the user's id matters for the import)."""

    user_id: str
    role: str = "learner"


Pages = Iterator[list[dict]]


@dataclass(frozen=True)
class DirectorySource:
    """How the directory import reads one platform: raw pages and pure mappers.

    `members(group_remote_id)` lists one group's users; mappers raise
    `integrations.core.records.MappingError` for a bad item (recorded, the import goes on).
    """

    groups: Callable[[], Pages]
    users: Callable[[], Pages]
    members: Callable[[str], Pages]
    map_group: Callable[[Mapping[str, Any]], RemoteGroup]
    map_user: Callable[[Mapping[str, Any]], RemoteUser]
    map_member: Callable[[Mapping[str, Any]], RemoteMember]
