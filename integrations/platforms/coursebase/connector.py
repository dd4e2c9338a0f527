"""`CoursebaseConnector`: a `PlatformConnection` of kind "coursebase", its client and the engines
(directory import, course list import, report export), and the source of Udemy statistics that
its `udemy_user_course_activity` report can be (`stats_source`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from integrations.core.kinds import Capability
from integrations.models import Integration

from ..base import Pages
from ..connector_common import ClientConnector
from . import mapping, stats_source
from .client import CoursebaseClient, CoursebaseCredentials, build_base_url
from .courses import courses_match, import_courses
from .exports import export_reports


class CoursebaseConnector(ClientConnector):
    key = "coursebase"
    label = "Coursebase"
    capabilities = frozenset(
        {Capability.DIRECTORY, Capability.COURSES, Capability.REPORTS, Capability.STATISTICS}
    )
    settings_fields = ("coursebase_domain", "coursebase_token", "udemy_stats_from_report")

    client_class = CoursebaseClient
    credentials_class = CoursebaseCredentials  # columns coursebase_domain and _token
    host_field = "coursebase_domain"
    mapping = mapping
    build_base_url = staticmethod(build_base_url)

    def directory_groups(self, client: CoursebaseClient) -> Callable[[], Pages]:
        # `org.groups.list` answers in one call: a single page.
        return lambda: iter([client.list_groups()])

    # The engines, the kind's own functions (keyword arguments, as the contract calls them).
    import_courses = staticmethod(import_courses)
    courses_match = staticmethod(courses_match)
    export_reports = staticmethod(export_reports)

    def stats_pages(
        self, integration: Integration, on_wait: Callable[[], None]
    ) -> AbstractContextManager[Callable[[int], Iterator[Any]] | None]:
        """The report's pages when Coursebase is the integration's statistics source."""
        return stats_source.stats_pages(integration, on_wait, make_client=self.make_client)
