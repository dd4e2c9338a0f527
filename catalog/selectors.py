"""Who may see what: the groups a user opens or administers, the catalogs a learner sees
(360Learning's rules) and their audience, the learners and slugs the API reveals, a subtree.

The courses themselves are read by `course_selectors` (a group admin's catalog and dashboards)
and `learner_selectors` (a learner's catalog), both scoped by these."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from .models import Group, Learner, Membership

User = AbstractBaseUser | AnonymousUser


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

    360Learning rules: "If the target group has public children groups, learners in public
    subgroups can access the content in the catalog of the target group" (the walk goes up
    through public groups and stops above the first private one), and "If you choose the
    platform group, all users in public groups can see the content" (a learner of any public
    group, however deep below private groups, sees the platform group's catalog).
    """
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Group.objects.values_list("id", flat=True))
    tree = _CatalogTree.load()
    visible: set[int] = set()
    for group_id in Group.objects.filter(memberships__learner__user=user).values_list(
        "id", flat=True
    ):
        visible |= tree.seen_from(group_id)
    return visible


def catalog_audience_group_ids(*, group: Group) -> set[int] | None:
    """The groups whose learners see `group`'s catalog: `catalog_group_ids_for_user` read the
    other way round (the group, and its public subgroups up to the first private one), from
    the same rule. None for the platform group: every learner of the site is its audience."""
    if group.is_platform:
        return None
    tree = _CatalogTree.load()
    return {gid for gid in tree.parents if group.pk in tree.seen_from(gid)}


@dataclass(frozen=True)
class _CatalogTree:
    """The group tree as the catalog rule reads it (one query)."""

    parents: dict[int, int | None]
    public: frozenset[int]
    platform: int | None

    @classmethod
    def load(cls) -> _CatalogTree:
        parents, public, platform = {}, set(), None
        for gid, parent, is_platform, is_public in _group_tree():
            parents[gid] = parent
            if is_public:
                public.add(gid)
            if is_platform:
                platform = gid
        return cls(parents, frozenset(public), platform)

    def seen_from(self, group_id: int) -> set[int]:
        """The catalogs a member of `group_id` sees (the 360Learning rules above)."""
        visible = {group_id}
        if group_id in self.public and self.platform is not None:
            visible.add(self.platform)
        current = group_id
        while current in self.public and self.parents.get(current):
            current = self.parents[current]
            visible.add(current)
        return visible


def _group_tree() -> QuerySet:
    """(id, parent id, is platform group, is public) of every group: one query."""
    return Group.objects.values_list("id", "parent_id", "is_platform", "is_public")


def is_group_admin(*, user: AbstractBaseUser | AnonymousUser, group: Group) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        Q(group=group) & Q(learner__user=user) & Q(role=Membership.Role.ADMIN)
    ).exists()


def group_list_for_api(*, user: User) -> QuerySet[Group]:
    """The groups a user administers (all for superusers): the only groups the API reveals."""
    return group_list_administered(user=user).select_related("parent").order_by("name", "id")


def learner_list_for_user(*, user: User) -> QuerySet[Learner]:
    """Learners of the groups the user administers, each with `visible_memberships`: only the
    memberships of those groups, so a group admin never learns about other groups."""
    administered = group_list_administered(user=user)
    learners = Learner.objects.all()
    memberships = Membership.objects.select_related("group").order_by("group__slug")
    if not user.is_superuser:
        learners = learners.filter(memberships__group__in=administered)
        memberships = memberships.filter(group__in=administered)
    return (
        learners.distinct()
        .order_by("email", "id")
        .prefetch_related(Prefetch("memberships", memberships, to_attr="visible_memberships"))
    )


def learner_email_is_listed(*, user: User, email: str) -> bool | None:
    """Who holds `email` (case-insensitive), as far as `user` may know: None when no learner
    has it; True when the learner is in `learner_list_for_user` (every learner for a
    superuser); False for any learner they can't list: another group's, one in no group, or one
    of a subgroup they don't administer, with no way to tell these apart (two queries)."""
    learner_id = Learner.objects.filter(email__iexact=email).values_list("pk", flat=True).first()
    if learner_id is None:
        return None
    return learner_list_for_user(user=user).filter(pk=learner_id).exists()


def group_slug_is_listed(*, user: User, slug: str) -> bool | None:
    """The same question for a group slug: None when free, True when the group is one the user
    administers (`group_list_for_api`), False for any other group, wherever it is."""
    if not Group.objects.filter(slug=slug).exists():
        return None
    return group_list_administered(user=user).filter(slug=slug).exists()


def group_subtree_ids(*, group: Group) -> set[int]:
    """The ids of `group` and of every group below it (one query per level of the tree)."""
    ids, level = {group.pk}, {group.pk}
    while level:
        level = set(Group.objects.filter(parent_id__in=level).values_list("id", flat=True)) - ids
        ids |= level
    return ids
