"""Glue between a `PlatformConnection` of kind "coursebase", its client and the engines."""

from __future__ import annotations

from typing import Any

from integrations.models import PlatformConnection

from ..base import CredentialCheck, DirectorySource, PlatformApiError, verdict_for
from . import mapping
from .client import CoursebaseClient, CoursebaseCredentials, build_base_url


def credentials_for(connection: PlatformConnection) -> CoursebaseCredentials:
    return CoursebaseCredentials(
        domain=connection.coursebase_domain,
        token=connection.coursebase_token,
        base_url=connection.base_url,
    )


def make_client(connection: PlatformConnection, **options: Any) -> CoursebaseClient:
    """A client of the connection's org (raises `PlatformConfigError` for a bad host)."""
    return CoursebaseClient(credentials_for(connection), **options)


def check_connection(connection: PlatformConnection) -> CredentialCheck:
    """Test connection: one `org.groups.list` call; never raises."""
    try:
        client = make_client(connection)
    except PlatformApiError as exc:
        return verdict_for(exc)
    with client:
        return client.check_connection()


def directory_source(connection: PlatformConnection, client: CoursebaseClient) -> DirectorySource:
    return DirectorySource(
        groups=lambda: iter([client.list_groups()]),
        users=client.iter_user_pages,
        members=client.iter_group_member_pages,
        map_group=mapping.map_group,
        map_user=mapping.map_user,
        map_member=mapping.map_member,
    )


def config_problem(values: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) when the domain or base URL would be refused by the client."""
    credentials = CoursebaseCredentials(
        domain=values.get("coursebase_domain", ""), token="", base_url=values.get("base_url", "")
    )
    try:
        build_base_url(credentials)
    except PlatformApiError as exc:
        return ("base_url" if credentials.base_url else "coursebase_domain"), exc.message
    return None
