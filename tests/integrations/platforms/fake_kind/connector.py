"""The connector of the test-only kind "fakelms": an in-memory directory, no HTTP.

`FakeConnector` is a `PlatformConnector` with the directory capability only. The
directory holds one bad user (no e-mail), recorded as a run error while the rest is imported.
`FAIL_WITH` makes the client raise a platform error, as a real client would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.core.errors import CredentialCheck
from integrations.core.kinds import Capability
from integrations.core.records import MappingError
from integrations.platforms.base import (
    DirectorySource,
    PlatformApiError,
    PlatformConnector,
    RemoteGroup,
    RemoteMember,
    RemoteUser,
)

GROUPS = [{"id": "g1", "name": "Fake sales", "parent": None}]
USERS = [
    {"id": "u1", "email": "ada@fake.example"},
    {"id": "u2", "email": "grace@fake.example"},
    {"id": "u3", "email": ""},  # the bad item
]
MEMBERS = {"g1": [{"user_id": "u1"}, {"user_id": "u2"}, {"user_id": "u3"}]}
FAIL_WITH: list[PlatformApiError] = []  # set by a test: the next client call raises it


class FakeClient:
    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def pages(self, rows: list[dict]) -> Any:
        if FAIL_WITH:
            raise FAIL_WITH[0]
        yield list(rows)


def make_client(connection: Any, **options: Any) -> FakeClient:
    return FakeClient()


def check_connection(connection: Any) -> CredentialCheck:
    return CredentialCheck(ok=True, verdict="ok", message="Connected to the fake LMS.")


def config_problem(values: Mapping[str, Any]) -> tuple[str, str] | None:
    return None


def _map_user(raw: Mapping[str, Any]) -> RemoteUser:
    if not raw.get("email"):
        raise MappingError(str(raw["id"]), "invalid_item", "The user has no e-mail address.")
    return RemoteUser(remote_id=raw["id"], email=raw["email"].lower())


def directory_source(connection: Any, client: FakeClient) -> DirectorySource:
    return DirectorySource(
        groups=lambda: client.pages(GROUPS),
        users=lambda: client.pages(USERS),
        members=lambda group_id: client.pages(MEMBERS.get(group_id, [])),
        map_group=lambda raw: RemoteGroup(raw["id"], raw["name"], raw["parent"]),
        map_user=_map_user,
        map_member=lambda raw: RemoteMember(user_id=raw["user_id"]),
    )


class FakeConnector(PlatformConnector):
    key = "fakelms"
    label = "Fake LMS"
    capabilities = frozenset({Capability.DIRECTORY})

    def make_client(self, connection: Any, **options: Any) -> FakeClient:
        return make_client(connection, **options)

    def check_connection(self, connection: Any) -> CredentialCheck:
        return check_connection(connection)

    def config_problem(self, values: Mapping[str, Any]) -> tuple[str, str] | None:
        return config_problem(values)

    def directory_source(self, connection: Any, client: FakeClient) -> DirectorySource:
        return directory_source(connection, client)
