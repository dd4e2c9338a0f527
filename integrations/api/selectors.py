"""Read side of the API: querysets already filtered by what the user may see.

Each one answers a page in a constant number of queries (select_related / prefetch / annotate).
Candidates to move beside `lmsbridge.catalog.selectors` and `integrations.selectors` (owned by
other modules); kept here so the API does not edit them.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Prefetch, QuerySet

from integrations.models import Integration, SyncError, SyncRun
from lmsbridge.catalog.models import Attempt, Course, Group, Learner, Membership
from lmsbridge.catalog.selectors import group_list_administered

User = AbstractBaseUser | AnonymousUser


def group_list_for_api(*, user: User) -> QuerySet[Group]:
    """The groups a user administers (all for superusers): the only groups the API reveals."""
    return group_list_administered(user=user).select_related("parent").order_by("name", "id")


def learner_list_for_user(*, user: User, group: Group | None = None) -> QuerySet[Learner]:
    """Learners of the groups the user administers, each with `visible_memberships`: only the
    memberships of those groups, so a group admin never learns about other groups."""
    administered = group_list_administered(user=user)
    learners = Learner.objects.all()
    memberships = Membership.objects.select_related("group").order_by("group__slug")
    if not user.is_superuser:
        learners = learners.filter(memberships__group__in=administered)
        memberships = memberships.filter(group__in=administered)
    if group is not None:
        learners = learners.filter(memberships__group=group)
    return (
        learners.distinct()
        .order_by("email", "id")
        .prefetch_related(Prefetch("memberships", memberships, to_attr="visible_memberships"))
    )


def integration_for_group(*, group: Group, provider: str) -> Integration | None:
    return Integration.objects.filter(group=group, provider=provider).first()


def sync_run_list_for_user(*, user: User) -> QuerySet[SyncRun]:
    runs = SyncRun.objects.all()
    if not user.is_superuser:
        runs = runs.filter(integration__group__in=group_list_administered(user=user))
    return (
        runs.select_related("integration__group")
        .annotate(errors_count=Count("errors"))
        .order_by("-created_at", "-id")
    )


def sync_run_get_for_user(*, user: User, run_id: int) -> SyncRun | None:
    return sync_run_list_for_user(user=user).filter(pk=run_id).first()


def sync_error_list(*, run: SyncRun) -> QuerySet[SyncError]:
    return SyncError.objects.filter(run=run).order_by("id")


def course_list_for_group(*, group: Group) -> QuerySet[Course]:
    return (
        Course.objects.filter(group=group)
        .prefetch_related("tags")
        .order_by("title", "kind", "external_id", "id")
    )


def attempt_list_for_group(*, group: Group) -> QuerySet[Attempt]:
    return (
        Attempt.objects.filter(course__group=group)
        .select_related("course", "learner")
        .order_by("course__external_id", "learner__email", "number", "id")
    )
