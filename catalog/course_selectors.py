"""The group admin's reads of a catalog: the course list and its filters, a course's dashboard
(attempts, summary), the group's time spent and activity series, every attempt (the API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Exists, F, OuterRef, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from .models import Attempt, Course, Group, Tag

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
        Course.objects.filter(group=group).prefetch_related(tags_prefetch()).order_by("title", "id")
    )


def tags_prefetch() -> Prefetch:
    """A course's tags, names only, in name order (the learner's catalog uses it too)."""
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
        .prefetch_related(tags_prefetch())
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
            "fingerprint",  # empty on an attempt xAPI changed since the last report: "real time"
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


@dataclass(frozen=True)
class ActivitySeries:
    days: list[date]
    completions: list[int]
    active_learners: list[int]
    # Closed by a launch alone (360Learning's rule), counted apart from Udemy's completions.
    launched: list[int] = field(default_factory=list)


def activity_series_for_group(*, group: Group, days: int = 90) -> ActivitySeries:
    """Completions on Udemy, launches counted as completed (apart), and distinct active learners
    per local day over the last `days` days.

    A learner is active on a day when one of their attempts on the group's courses started,
    was last accessed or completed that day (the dates Udemy reports). Two queries, grouped in
    the database.
    """
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    attempts = Attempt.objects.filter(course__group=group)
    closed = list(
        attempts.filter(completed_at__gte=since)
        .annotate(day=TruncDate("completed_at"))
        .values("day")
        .annotate(
            udemy=Count("id", filter=Attempt.completed_on_udemy_q()),
            launched=Count("id", filter=Attempt.launched_only_q()),
        )
        .values_list("day", "udemy", "launched")
        .order_by()
    )
    completions = {day: udemy for day, udemy, _ in closed}
    launched = {day: n for day, _, n in closed}
    active: dict[date, set[int]] = {}
    for learner_id, day in _activity_pairs(attempts, since):
        active.setdefault(day, set()).add(learner_id)
    all_days = [start + timedelta(days=i) for i in range(days)]
    return ActivitySeries(
        days=all_days,
        completions=[completions.get(day, 0) for day in all_days],
        active_learners=[len(active.get(day, ())) for day in all_days],
        launched=[launched.get(day, 0) for day in all_days],
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


def attempt_list_for_group(*, group: Group) -> QuerySet[Attempt]:
    return (
        Attempt.objects.filter(course__group=group)
        .select_related("course", "learner")
        .order_by("course__external_id", "learner__email", "number", "id")
    )
