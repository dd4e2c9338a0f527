"""What every kind's `connector` module shares (the interface is described in `base.py`): the
client's lifecycle for "Test connection", a directory source over a client, and the client's host
rule as a form error. A kind writes only its specifics: credentials, client and mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from integrations.models import PlatformConnection

from .base import CredentialCheck, DirectorySource, Pages, PlatformApiError, verdict_for


def check_with_client(
    connection: PlatformConnection,
    make_client: Callable[[PlatformConnection], Any],
    check: Callable[[Any], CredentialCheck],
) -> CredentialCheck:
    """Test connection, never raising: `check(client)` with the kind's client open; a client
    that can't be built (host not allowed...) is a failed verdict."""
    try:
        client = make_client(connection)
    except PlatformApiError as exc:
        return verdict_for(exc)
    with client:
        return check(client)


def client_directory_source(
    client: Any, mapping: ModuleType, *, groups: Callable[[], Pages] | None = None
) -> DirectorySource:
    """The directory source of a client with `iter_user_pages`, `iter_group_member_pages` and
    (unless `groups` is given) `iter_group_pages`, mapped by the kind's `mapping` module."""
    return DirectorySource(
        groups=groups if groups is not None else client.iter_group_pages,
        users=client.iter_user_pages,
        members=client.iter_group_member_pages,
        map_group=mapping.map_group,
        map_user=mapping.map_user,
        map_member=mapping.map_member,
    )


def host_problem(
    build_base_url: Callable[[Any], str], credentials: Any, *, host_field: str
) -> tuple[str, str] | None:
    """(field, message) when the client would refuse the credentials' host: `base_url` when one
    is set, else `host_field` (the portal or domain)."""
    try:
        build_base_url(credentials)
    except PlatformApiError as exc:
        return ("base_url" if credentials.base_url else host_field), exc.message
    return None
