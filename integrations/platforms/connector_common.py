"""What the kinds with an HTTP client share (the contract is `base.PlatformConnector`): the
client built from the connection's credentials, its lifecycle for "Test connection", a directory
source over the client, and the client's host rule as a form error. A kind writes only its
specifics: which columns make its credentials, its client, its mapping and its checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, ClassVar

from integrations.models import PlatformConnection

from .base import (
    CredentialCheck,
    DirectorySource,
    Pages,
    PlatformApiError,
    PlatformConnector,
    verdict_for,
)


class ClientConnector(PlatformConnector):
    """A kind whose client takes credentials read from the connection's columns.

    `credentials_class` (a dataclass) names the columns: its field `x` is the column `<key>_x`,
    but for `base_url`, every kind's override column. Its field declared `repr=False` is the
    kind's `secret_field`; its other fields but `base_url` are the `required_fields` (a secret
    may stay stored). `host_field` is the column naming the platform's host (portal, domain),
    checked with `base_url` by `build_base_url` (the client's own rule) before anything is
    saved."""

    client_class: ClassVar[type]
    credentials_class: ClassVar[type]
    credential_columns: ClassVar[dict[str, str]]  # credentials field -> column
    host_field: ClassVar[str]
    mapping: ClassVar[ModuleType]  # `map_group`, `map_user`, `map_member`

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = {"secret_field", "required_fields", "credential_columns"} & set(vars(cls))
        if declared:  # derived below: a declaration of its own would be silently replaced
            raise TypeError(f"{cls.__name__}: {', '.join(sorted(declared))} follow from "
                            "credentials_class and are not declared")  # fmt: skip
        fields = dataclasses.fields(cls.credentials_class)
        secrets = [f.name for f in fields if not f.repr]
        if len(secrets) != 1:  # without one, the secret would be an ordinary (shown) setting
            raise TypeError(f"{cls.__name__}: its credentials class must declare exactly one "
                            f"field with repr=False (the secret), not {len(secrets)}")  # fmt: skip
        columns = {
            f.name: f.name if f.name == "base_url" else f"{cls.key}_{f.name}" for f in fields
        }
        cls.credential_columns = columns
        cls.secret_field = columns[secrets[0]]
        cls.required_fields = tuple(
            column
            for name, column in columns.items()
            if name != "base_url" and column != cls.secret_field
        )

    @staticmethod
    def build_base_url(credentials: Any) -> str:
        raise NotImplementedError

    def credentials_for(self, connection: PlatformConnection) -> Any:
        columns = self.credential_columns
        return self.credentials_class(**{f: getattr(connection, c) for f, c in columns.items()})

    def make_client(self, connection: PlatformConnection, **options: Any) -> Any:
        """A client of the connection (raises `PlatformConfigError` for a bad host)."""
        return self.client_class(self.credentials_for(connection), **options)

    def client_check(self, client: Any, connection: PlatformConnection) -> CredentialCheck:
        """The kind's Test connection calls, the client open."""
        return client.check_connection()

    def check_connection(self, connection: PlatformConnection) -> CredentialCheck:
        """Test connection, never raising: `client_check` with the kind's client open; a client
        that can't be built (host not allowed...) is a failed verdict."""
        try:
            client = self.make_client(connection)
        except PlatformApiError as exc:
            return verdict_for(exc)
        with client:
            return self.client_check(client, connection)

    def directory_groups(self, client: Any) -> Callable[[], Pages]:
        return client.iter_group_pages

    def directory_source(self, connection: PlatformConnection, client: Any) -> DirectorySource:
        """Over a client with `iter_user_pages`, `iter_group_member_pages` and the groups of
        `directory_groups`, mapped by the kind's `mapping` module."""
        return DirectorySource(
            groups=self.directory_groups(client),
            users=client.iter_user_pages,
            members=client.iter_group_member_pages,
            map_group=self.mapping.map_group,
            map_user=self.mapping.map_user,
            map_member=self.mapping.map_member,
        )

    def config_problem(self, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """(field, message) when the client would refuse the host: `base_url` when one is set,
        else `host_field` (the portal or domain)."""
        hosts = (self.host_field, "base_url")
        columns = self.credential_columns
        credentials = self.credentials_class(
            **{f: values.get(c, "") if c in hosts else "" for f, c in columns.items()}
        )
        try:
            self.build_base_url(credentials)
        except PlatformApiError as exc:
            return ("base_url" if credentials.base_url else self.host_field), exc.message
        return None
