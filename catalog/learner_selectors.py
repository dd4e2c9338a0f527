"""The learner's reads of the catalogs they see: their courses with their own progress, the
filter bar's values, a course page, the course START may launch."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import pgettext_lazy

from .course_selectors import tags_prefetch
from .models import Attempt, Course, Tag
from .selectors import catalog_group_ids_for_user


class LearnerState(TextChoices):
    """Where a learner stands on a course, from their latest attempt (the highest number)."""

    NOT_STARTED = "not_started", pgettext_lazy("learner state", "Not started")
    IN_PROGRESS = "in_progress", pgettext_lazy("learner state", "In progress")
    LAUNCHED = "launched", pgettext_lazy("learner state", "Launched")
    COMPLETED = "completed", pgettext_lazy("learner state", "Completed")


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
    return courses.prefetch_related(tags_prefetch()).order_by("title", "id")


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
        .prefetch_related(tags_prefetch())
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
