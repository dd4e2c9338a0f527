"""What every platform connector shares: the `PlatformConnector` contract (declared capabilities
and the methods each one needs), errors, the connection verdict, directory records.

A kind is a subclass of `PlatformConnector` (see `learnupon/connector.py`,
`coursebase/connector.py`, and `connector_common.ClientConnector` for what kinds with an HTTP
client share) listed in `integrations.connectors.platforms`. Every kind makes a client, tests a
connection and validates its settings; `capabilities` says which runs it has (`directory`,
`push`, `courses`, `reports`) and whether it is a source of a provider's `statistics`.

Clients raise the `PlatformApiError` subclasses below with messages written for a group admin; the
engines catch the provider-neutral classes and never look at vendor details.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core import errors as core
from ..core.errors import CredentialCheck
from ..core.hosts import allowed_host_patterns, validated_base_url
from ..core.kinds import Capability, missing_methods

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


# --------------------------------------------------------------------------- the contract

# The run kinds, in the order the pages list them: a platform has those it declares.
RUN_CAPABILITIES = (Capability.DIRECTORY, Capability.PUSH, Capability.COURSES, Capability.REPORTS)


class PlatformConnector(ABC):
    """A learning platform: what a `PlatformConnection` connects.

    A subclass declaring a capability must implement that capability's methods (`REQUIRES`,
    checked when the class is defined); the engines ask `supports`, never whether a method
    exists. `settings_fields` are the connection's columns this kind uses (`required` of them
    to be filled, `secret_field` write-only)."""

    REQUIRES: ClassVar[dict[Capability, tuple[str, ...]]] = {
        Capability.DIRECTORY: ("directory_source",),
        Capability.PUSH: (
            "push_run", "push_problem", "links_made", "mark_unlink", "enrollment_estimate",
        ),
        Capability.COURSES: ("import_courses", "courses_match"),
        Capability.REPORTS: ("export_reports",),
        Capability.STATISTICS: ("stats_pages",),
    }  # fmt: skip
    key: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    settings_fields: ClassVar[tuple[str, ...]] = ()
    required_fields: ClassVar[tuple[str, ...]] = ()
    secret_field: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if missing := missing_methods(cls, cls.capabilities, cls.REQUIRES, PlatformConnector):
            raise TypeError(f"{cls.__name__} declares capabilities without {missing}")

    def supports(self, capability: Capability | str) -> bool:
        return capability in self.capabilities

    @property
    def run_kinds(self) -> tuple[str, ...]:
        """The run kinds this platform has ("directory", "push", "courses", "reports")."""
        return tuple(str(c) for c in RUN_CAPABILITIES if c in self.capabilities)

    @abstractmethod
    def make_client(self, connection: Any, **options: Any) -> Any:
        """A client of the connection, usable as a context manager (raises
        `PlatformConfigError` for a host that is not allowed)."""

    @abstractmethod
    def check_connection(self, connection: Any) -> CredentialCheck:
        """Test connection: a verdict, never a raise."""

    @abstractmethod
    def config_problem(self, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """(field, message) when the client would refuse these settings (their host)."""

    # DIRECTORY
    def directory_source(self, connection: Any, client: Any) -> DirectorySource:
        raise NotImplementedError

    # PUSH
    def push_run(
        self, *, run: Any, connection: Any, client: Any, dry_run: bool,
        on_item: Callable[[], None] | None = None,
        counts: dict[str, dict[str, int]] | None = None, resumed_since: Any = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The catalog and the completions; a dict of `courses`, `completions`, `plan` and
        `waiting` counts and messages (`services.platform_execute` records them). `on_item` may
        stop the push between two items (`Reschedule`): `counts` then holds each stream's counts
        so far, and the run goes on later from the ledger (`resumed_since`: the run's start),
        leaving what it already sent or saw refused."""
        raise NotImplementedError

    def push_problem(self, connection: Any) -> str:
        """Why a push can't run with these settings ('' when it can)."""
        raise NotImplementedError

    def links_made(self, *, connection: Any) -> list:
        """The courses linked to the target group (enrolling its members)."""
        raise NotImplementedError

    def mark_unlink(self, *, connection: Any) -> int:
        """Mark every course link to be removed by the next push; how many."""
        raise NotImplementedError

    def enrollment_estimate(self, connection: Any, client: Any = None) -> Any:
        """The dry run of linking the courses to the target group (reads only)."""
        raise NotImplementedError

    # COURSES
    def import_courses(
        self, *, run: Any, connection: Any, client: Any, on_page: Callable[[], None]
    ) -> None:
        raise NotImplementedError

    def courses_match(self, *, connection: Any) -> Any:
        """Match the platform's course list to the synced catalog (local rows only)."""
        raise NotImplementedError

    # REPORTS
    def export_reports(
        self, *, run: Any, connection: Any, client: Any, on_page: Callable[[], None]
    ) -> None:
        raise NotImplementedError

    # STATISTICS (a `providers.base.StatisticsSource`)
    def stats_pages(
        self, integration: Any, on_wait: Callable[[], None]
    ) -> AbstractContextManager[Any]:
        raise NotImplementedError
