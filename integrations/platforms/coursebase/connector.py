"""Glue between a `PlatformConnection` of kind "coursebase", its client and the engines."""

from __future__ import annotations

from typing import Any

from integrations.models import PlatformConnection

from ..base import CredentialCheck, DirectorySource
from ..connector_common import check_with_client, client_directory_source, host_problem
from . import mapping
from .client import CoursebaseClient, CoursebaseCredentials, build_base_url
from .courses import courses_match, import_courses
from .exports import export_reports

__all__ = ["check_connection", "config_problem", "courses_match", "directory_source",
           "export_reports", "import_courses", "make_client"]  # fmt: skip


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
    return check_with_client(connection, make_client, lambda client: client.check_connection())


def directory_source(connection: PlatformConnection, client: CoursebaseClient) -> DirectorySource:
    # `org.groups.list` answers in one call: a single page.
    return client_directory_source(client, mapping, groups=lambda: iter([client.list_groups()]))


def config_problem(values: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) when the domain or base URL would be refused by the client."""
    credentials = CoursebaseCredentials(
        domain=values.get("coursebase_domain", ""), token="", base_url=values.get("base_url", "")
    )
    return host_problem(build_base_url, credentials, host_field="coursebase_domain")
