"""A group's learning-platform connection: its runs, platform courses and their matches, the
learners' progress on them, its audit trail."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from catalog.models import Group
from integrations.models import (
    PlatformAuditEntry,
    PlatformConnection,
    PlatformCourse,
    PlatformLearnerProgress,
    PlatformRun,
)


def connection_for_group(*, group: Group) -> PlatformConnection | None:
    """The group's saved learning-platform connection, if any."""
    return PlatformConnection.objects.filter(group=group).first()


def platform_run_list_for_group(*, group) -> QuerySet[PlatformRun]:
    """The group's platform runs, newest first, with their error counts (one query a page)."""
    return (
        PlatformRun.objects.filter(connection__group=group)
        .select_related("connection", "triggered_by")
        .annotate(errors_count=Count("errors"))
        .order_by("-created_at", "-id")
    )


def platform_run_get_for_group(*, group, run_id: int) -> PlatformRun:
    """A run of the group's connection; 404 for another group's run (existence not revealed)."""
    run = platform_run_list_for_group(group=group).filter(pk=run_id).first()
    if run is None:
        raise Http404("No such run")
    return run


def platform_course_list(
    *, connection: PlatformConnection, query: str = "", match: str = ""
) -> QuerySet[PlatformCourse]:
    """The connection's present platform courses by title, with their matched course."""
    courses = PlatformCourse.objects.filter(connection=connection, present=True).select_related(
        "course"
    )
    if query:
        courses = courses.filter(title__icontains=query)
    if match in PlatformCourse.Match.values:
        courses = courses.filter(match=match)
    return courses.order_by("title", "id")


def platform_course_counts(*, connection: PlatformConnection) -> dict[str, int]:
    """How many present platform courses are matched, ambiguous or unmatched (one query)."""
    counts = dict(
        PlatformCourse.objects.filter(connection=connection, present=True)
        .values_list("match")
        .annotate(n=Count("id"))
        .values_list("match", "n")
    )
    return {value: counts.get(value, 0) for value in PlatformCourse.Match.values}


def platform_courses_for_course(*, course) -> list[PlatformCourse]:
    """The platform courses matched to a synced course (at most one per connection)."""
    return list(
        PlatformCourse.objects.filter(course=course, present=True).select_related("connection")
    )


def platform_progress_for(*, platform_course: PlatformCourse, emails: list[str]) -> dict:
    """Lower-cased e-mail → the platform's progress (percent) on that course, for `emails`."""
    return dict(
        PlatformLearnerProgress.objects.filter(
            connection_id=platform_course.connection_id,
            course_remote_id=platform_course.remote_id,
            email__in=[e.lower() for e in emails],
        ).values_list("email", "progress")
    )


def audit_entries_for_connection(*, connection: PlatformConnection) -> QuerySet:
    """The connection's audit entries, and the group's refused first saves (stored with no
    connection), newest first; only those for a connection not saved yet."""
    before_a_save = Q(connection__isnull=True, group_id=connection.group_id)
    return (
        PlatformAuditEntry.objects.filter(
            before_a_save | Q(connection=connection) if connection.pk else before_a_save
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
