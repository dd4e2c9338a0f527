"""Read access to groups and catalogs, always filtered by what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone

from .models import Attempt, Course, Group, Learner, Membership, Tag

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


# --------------------------------------------------------------------------- catalog pages

ATTEMPT_SORTS: dict[str, str] = {
    "email": "learner__email",
    "progress": "progress",
    "first_activity": "first_activity",
    "last_activity": "last_activity",
    "completed_at": "completed_at",
    "time_spent": "time_spent_ms",
    "number": "number",
    "state": "is_open",
}
DEFAULT_ATTEMPT_SORT = "-last_activity"


def course_list_for_group(*, group: Group) -> QuerySet[Course]:
    """The group's synced courses and learning paths, tags prefetched (one query per page
    whatever its size). The console and the API narrow it with `catalog.filters`."""
    return (
        Course.objects.filter(group=group)
        .prefetch_related(_tags_prefetch())
        .order_by("title", "id")
    )


def _tags_prefetch() -> Prefetch:
    return Prefetch("tags", queryset=Tag.objects.only("id", "name").order_by("name"))


def course_filter_options(*, group: Group) -> dict[str, list[str]]:
    """Values offered by the catalog's filter bar: the tags and languages in use (two queries)."""
    # One semi-join per tag (it stops at the first course of the group carrying it) rather than
    # a DISTINCT over every (course, tag) link of the group.
    links = Course.tags.through.objects.filter(tag_id=OuterRef("pk"), course__group=group)
    tags = Tag.objects.filter(Exists(links)).values_list("name", flat=True)
    langs = Course.objects.filter(group=group).values_list("lang", flat=True).distinct().order_by()
    return {"tags": sorted(set(tags)), "langs": sorted(set(langs))}


def course_get_for_group(*, group: Group, course_id: int) -> Course:
    course = (
        Course.objects.filter(pk=course_id, group=group)
        .select_related("integration")
        .prefetch_related(_tags_prefetch())
        .first()
    )
    if course is None:
        raise Http404("No such course")
    return course


def attempt_sort_key(sort: str) -> str:
    """A whitelisted `?sort=` value ("progress", "-progress"...), or the default."""
    name = sort.removeprefix("-")
    return sort if name in ATTEMPT_SORTS else DEFAULT_ATTEMPT_SORT


def attempt_list_for_course(*, course: Course, sort: str = "") -> QuerySet[Attempt]:
    """The learners' attempts on a course, with the learner's name and e-mail, sorted by a
    whitelisted column (ties broken by id so pages are stable)."""
    sort = attempt_sort_key(sort)
    descending = sort.startswith("-")
    field = ATTEMPT_SORTS[sort.removeprefix("-")]
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return (
        Attempt.objects.filter(course=course)
        .select_related("learner")
        .only(
            "id",
            "number",
            "first_activity",
            "last_activity",
            "completed_at",
            "progress",
            "time_spent_ms",
            "is_open",
            "source",
            "learner__email",
            "learner__first_name",
            "learner__last_name",
        )
        .order_by(order, "id")
    )


@dataclass(frozen=True)
class AttemptSummary:
    learners: int
    attempts: int
    completions: int  # completed on Udemy (a launch alone is counted in `launched`)
    average_progress: float | None
    time_spent_ms: int
    launched: int = 0  # closed by START only: "counted as completed, per 360Learning's rule"


def attempt_summary_for_course(*, course: Course) -> AttemptSummary:
    """What the course dashboard opens on: learners with an attempt, attempts, completions
    (attempts with a completion date), the average progress and the time spent (one query)."""
    figures = Attempt.objects.filter(course=course).aggregate(
        learners=Count("learner_id", distinct=True),
        attempts=Count("id"),
        completions=Count("id", filter=Attempt.completed_on_udemy_q()),
        launched=Count("id", filter=Attempt.launched_only_q()),
        average_progress=Avg("progress"),
        time_spent_ms=Sum("time_spent_ms"),
    )
    return AttemptSummary(
        learners=figures["learners"],
        attempts=figures["attempts"],
        completions=figures["completions"],
        launched=figures["launched"],
        average_progress=figures["average_progress"],
        time_spent_ms=figures["time_spent_ms"] or 0,
    )


def time_spent_for_group(*, group: Group) -> int:
    """Milliseconds the learners spent on the group's courses, all attempts (one query)."""
    total = Attempt.objects.filter(course__group=group).aggregate(total=Sum("time_spent_ms"))
    return total["total"] or 0


# --------------------------------------------------------------------------- learner side


class LearnerState(TextChoices):
    """Where a learner stands on a course, from their latest attempt (the highest number)."""

    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    LAUNCHED = "launched", "Launched"
    COMPLETED = "completed", "Completed"


def _latest_attempts(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Attempt]:
    """The user's attempts on the outer query's course, latest first."""
    return Attempt.objects.filter(course=OuterRef("pk"), learner__user_id=user.pk).order_by(
        "-number", "-id"
    )


# A launch from the platform closes its attempt at once at 0 % (360Learning: "the course is
# marked as completed, and the progress is set to 0%"), which is bookkeeping, not the learner
# having finished: such an attempt reads "Launched" (counted as completed by the rule, said so)
# until Udemy's statistics report it finished (`Attempt.completed_on_udemy_q`) — the same
# words as on the admin's course dashboard.
_STATE_OF_ATTEMPT = Case(
    When(is_open=True, then=Value(LearnerState.IN_PROGRESS.value)),
    When(Attempt.completed_on_udemy_q(), then=Value(LearnerState.COMPLETED.value)),
    When(completed_at__isnull=False, then=Value(LearnerState.LAUNCHED.value)),
    default=Value(LearnerState.IN_PROGRESS.value),
    output_field=CharField(),
)


def with_learner_progress(
    courses: QuerySet[Course], *, user: AbstractBaseUser | AnonymousUser
) -> QuerySet[Course]:
    """`courses` with the user's own state on each: `my_state` (a `LearnerState` value),
    `my_progress` (percent, None when not started) and `my_last_activity`, all from their
    latest attempt. Correlated subqueries: the page's query carries them, whatever its size,
    and `my_state` can be filtered on."""
    if not user.is_authenticated:
        return courses.annotate(
            my_state=Value(LearnerState.NOT_STARTED.value, output_field=CharField()),
            my_progress=Value(None, output_field=FloatField()),
            my_last_activity=Value(None, output_field=DateTimeField()),
        )
    latest = _latest_attempts(user)
    return courses.annotate(
        my_state=Coalesce(
            Subquery(latest.annotate(state=_STATE_OF_ATTEMPT).values("state")[:1]),
            Value(LearnerState.NOT_STARTED.value),
            output_field=CharField(),
        ),
        my_progress=Subquery(latest.values("progress")[:1], output_field=FloatField()),
        my_last_activity=Subquery(latest.values("last_activity")[:1]),
    )


def catalog_courses_for_user(
    *,
    user: AbstractBaseUser | AnonymousUser,
    query: str = "",
    group_ids: set[int] | None = None,
) -> QuerySet[Course]:
    """Active courses of every catalog the user sees (their groups and public-child rule),
    optionally those whose title contains `query`, each with the user's own progress
    (`with_learner_progress`). Archived courses are never listed: they are gone upstream and
    START refuses them. `group_ids`: `catalog_group_ids_for_user`, when the caller has it."""
    if group_ids is None:
        group_ids = catalog_group_ids_for_user(user=user)
    courses = Course.objects.filter(group_id__in=group_ids, status=Course.Status.ACTIVE)
    if query := query.strip():
        courses = courses.filter(title__icontains=query)
    courses = with_learner_progress(courses, user=user)
    return courses.prefetch_related(_tags_prefetch()).order_by("title", "id")


def catalog_filter_options(*, group_ids: set[int]) -> dict[str, list[str]]:
    """Values offered by the learner catalog's filter bar: the tags and languages of the active
    courses of the catalogs `group_ids` (two queries)."""
    active = {"group_id__in": group_ids, "status": Course.Status.ACTIVE}
    links = Course.tags.through.objects.filter(
        tag_id=OuterRef("pk"), **{f"course__{k}": v for k, v in active.items()}
    )
    tags = Tag.objects.filter(Exists(links)).values_list("name", flat=True)
    langs = Course.objects.filter(**active).values_list("lang", flat=True).distinct().order_by()
    return {"tags": sorted(set(tags)), "langs": sorted(set(langs))}


def course_get_visible(*, user: AbstractBaseUser | AnonymousUser, course_id: int) -> Course:
    """The learner's course page: an active course of a catalog the user sees, tags prefetched,
    with their own progress (`with_learner_progress`) and `my_time_spent_ms` (all their
    attempts); 404 otherwise, the same answer whether the course exists or not."""
    if not user.is_authenticated:
        raise Http404("No such course")
    group_ids = catalog_group_ids_for_user(user=user)
    courses = Course.objects.filter(
        pk=course_id, group_id__in=group_ids, status=Course.Status.ACTIVE
    )
    spent = (
        Attempt.objects.filter(course=OuterRef("pk"), learner__user_id=user.pk)
        .order_by()
        .values("course")
        .annotate(total=Sum("time_spent_ms"))
        .values("total")
    )
    course = (
        with_learner_progress(courses, user=user)
        .annotate(my_time_spent_ms=Coalesce(Subquery(spent), 0))
        .prefetch_related(_tags_prefetch())
        .first()
    )
    if course is None:
        raise Http404("No such course")
    return course


def course_get_launchable(*, user: AbstractBaseUser | AnonymousUser, course_id: int) -> Course:
    """An active course of a catalog the user sees; 404 otherwise (no existence leak)."""
    group_ids = catalog_group_ids_for_user(user=user)
    course = Course.objects.filter(
        pk=course_id, group_id__in=group_ids, status=Course.Status.ACTIVE
    ).first()
    if course is None:
        raise Http404("No such course")
    return course


@dataclass(frozen=True)
class ActivitySeries:
    days: list[date]
    completions: list[int]
    active_learners: list[int]


def activity_series_for_group(*, group: Group, days: int = 90) -> ActivitySeries:
    """Completions and distinct active learners per local day over the last `days` days.

    A learner is active on a day when one of their attempts on the group's courses started,
    was last accessed or completed that day (the dates Udemy reports). Two queries, grouped in
    the database.
    """
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    attempts = Attempt.objects.filter(course__group=group)
    completions = dict(
        attempts.filter(Attempt.completed_on_udemy_q(), completed_at__gte=since)
        .annotate(day=TruncDate("completed_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
        .order_by()
    )
    active: dict[date, set[int]] = {}
    for learner_id, day in _activity_pairs(attempts, since):
        active.setdefault(day, set()).add(learner_id)
    all_days = [start + timedelta(days=i) for i in range(days)]
    return ActivitySeries(
        days=all_days,
        completions=[completions.get(day, 0) for day in all_days],
        active_learners=[len(active.get(day, ())) for day in all_days],
    )


def _activity_pairs(attempts: QuerySet[Attempt], since: datetime) -> QuerySet:
    """Distinct (learner, day) pairs of any activity date: one UNION query."""
    parts = [
        attempts.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .values_list("learner_id", "day")
        .order_by()
        for field in ("first_activity", "last_activity", "completed_at")
    ]
    return parts[0].union(*parts[1:])


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


def attempt_list_for_group(*, group: Group) -> QuerySet[Attempt]:
    return (
        Attempt.objects.filter(course__group=group)
        .select_related("course", "learner")
        .order_by("course__external_id", "learner__email", "number", "id")
    )


def group_subtree_ids(*, group: Group) -> set[int]:
    """The ids of `group` and of every group below it (one query per level of the tree)."""
    ids, level = {group.pk}, {group.pk}
    while level:
        level = set(Group.objects.filter(parent_id__in=level).values_list("id", flat=True)) - ids
        ids |= level
    return ids
