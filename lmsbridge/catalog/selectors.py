"""Read access to groups and catalogs, always filtered by what the user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Group, Membership


def group_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Group]:
    """Groups a user may open: all for superusers, else the groups they belong to."""
    if not user.is_authenticated:
        return Group.objects.none()
    if user.is_superuser:
        return Group.objects.all()
    return Group.objects.filter(memberships__learner__user=user).distinct()


def group_list_administered(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Group]:
    if not user.is_authenticated:
        return Group.objects.none()
    if user.is_superuser:
        return Group.objects.all()
    return Group.objects.filter(
        memberships__learner__user=user, memberships__role=Membership.Role.ADMIN
    ).distinct()


def group_get_administered(*, user: AbstractBaseUser | AnonymousUser, slug: str) -> Group:
    """The group `slug` if the user administers it; 404 otherwise (never 403: no existence leak)."""
    group = group_list_administered(user=user).filter(slug=slug).first()
    if group is None:
        raise Http404("No such group")
    return group


def group_get_visible(*, user: AbstractBaseUser | AnonymousUser, slug: str) -> Group:
    group = group_list_for_user(user=user).filter(slug=slug).first()
    if group is None:
        raise Http404("No such group")
    return group


def catalog_group_ids_for_user(*, user: AbstractBaseUser | AnonymousUser) -> set[int]:
    """Groups whose catalog a learner sees: their groups, plus the ancestors of public groups.

    Seed rule: learners in public subgroups of the target group access its catalog.
    """
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Group.objects.values_list("id", flat=True))
    parents = dict(Group.objects.values_list("id", "parent_id"))
    public = set(Group.objects.filter(is_public=True).values_list("id", flat=True))
    visible: set[int] = set()
    for group_id in Group.objects.filter(memberships__learner__user=user).values_list(
        "id", flat=True
    ):
        visible.add(group_id)
        current = group_id
        while current in public and parents.get(current):
            current = parents[current]
            visible.add(current)
    return visible


def is_group_admin(*, user: AbstractBaseUser | AnonymousUser, group: Group) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        Q(group=group) & Q(learner__user=user) & Q(role=Membership.Role.ADMIN)
    ).exists()
