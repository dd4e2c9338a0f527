"""What every platform connector shares: errors, the connection verdict, directory records.

A kind's `connector` module exposes (see `learnupon/connector.py`, `coursebase/connector.py`):

- `make_client(connection)` → a client usable as a context manager;
- `check_connection(connection)` → `CredentialCheck` (never raises);
- `directory_source(connection, client)` → `DirectorySource`;
- `config_problem(values)` → `(field, message)` or None (settings validation);
- for kinds with `push=True` in the registry, `push(run=, connection=, client=, dry_run=,
  on_item=)` and `push_problem(connection)`, called by `integrations.platforms.execute`.

Clients raise the `PlatformApiError` subclasses below with messages written for a group admin; the
engines catch the provider-neutral classes and never look at vendor details.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core import errors as core
from ..core.errors import CredentialCheck
from ..core.hosts import allowed_host_patterns, validated_base_url

ALLOWED_HOSTS_SETTING = "PLATFORM_ALLOWED_HOSTS"

# --------------------------------------------------------------------------- errors
# The core classes under the platform names (the run history records the class name).


class PlatformApiError(core.ApiError):
    """Any failure talking to a platform. `message` is written for a group admin."""


class PlatformConfigError(PlatformApiError, core.ConfigError):
    """The connection settings are not acceptable (host not allowed, missing field...)."""


class PlatformAuthError(PlatformApiError, core.AuthError):
    """401/403 or an auth error code: retrying cannot help, the admin must fix the keys."""


class PlatformNotFound(PlatformApiError, core.NotFound):
    """404: the portal, domain or object does not exist."""


class PlatformRejected(PlatformApiError, core.Rejected):
    """The platform refused one item (400/404/409/422 on a write): the run records it, goes on."""


class PlatformRetryLater(PlatformApiError, core.RetryLater):
    """Rate-limited for longer than the client may block a worker: reschedule after it."""


class PlatformBudgetSpent(PlatformApiError):
    """The platform's weekly request budget is (nearly) used up: the run stops before the
    platform refuses, and the next run goes on once the week renews."""


class PlatformUnavailable(PlatformApiError, core.Unavailable):
    """5xx, connection error or timeout that outlived every retry."""


class PlatformBadResponse(PlatformApiError, core.BadResponse):
    """A body that is not the documented JSON (HTML, truncated, wrong envelope)."""


PLATFORM_ERRORS = core.ErrorFamily.of(PlatformApiError)


def verdict_for(exc: PlatformApiError) -> CredentialCheck:
    """A failed check's verdict, from the kind of the client's error (`core.VERDICTS`)."""
    return core.verdict_for(exc)


# --------------------------------------------------------------------------- hosts


def platform_base_url(
    override: str,
    name: str,
    *,
    pattern: re.Pattern[str],
    template: str,
    invalid: str,
    vendor_hosts: Sequence[str] = (),
) -> str:
    """The API root of a connection: `override` (the sandbox, a regional host), else `template`
    filled with `name` (a portal, a custom domain), lower-cased, once it matches `pattern`
    (`invalid`, formatted with `name`, says why not). Either way its host must match the
    vendor's hosts, `PLATFORM_ALLOWED_HOSTS` or, outside production, loopback (no SSRF)."""
    if not override:
        name = name.strip().lower()
        if not pattern.match(name):
            raise PlatformConfigError(invalid.format(name=name))
        override = template.format(name=name)
    return validated_base_url(
        override,
        patterns=allowed_host_patterns(vendor_hosts, ALLOWED_HOSTS_SETTING),
        setting_name=ALLOWED_HOSTS_SETTING,
        error=PlatformConfigError,
    )


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
    role: str = "learner"  # platform-wide (LearnUpon's user_type); a member's own role wins


@dataclass(frozen=True)
class RemoteMember:
    """One user of a group's member list and their role in that group ("": the user's
    platform-wide role, for platforms whose member lists carry none)."""

    user_id: str
    role: str = ""


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
