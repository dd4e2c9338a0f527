"""Catalog pages: the learner's catalog, course page and START, and the group admin's catalog,
course dashboard (learners' attempts, CSV export) and activity dashboard.

Group pages are admin-only: `group_get_administered` answers 404 for anyone else, so learners
never see other learners' statistics. Reads go through selectors, writes through services.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from shared.charts import activity_chart
from shared.csv_export import csv_response

from .course_selectors import (
    activity_series_for_group,
    attempt_list_for_course,
    attempt_sort_key,
    attempt_summary_for_course,
    course_filter_options,
    course_get_for_group,
    course_list_for_group,
    time_spent_for_group,
)
from .durations import human_duration_ms
from .filters import SHOW_ALL_STATUSES, GroupCatalogFilter, LearnerCatalogFilter
from .learner_selectors import (
    LearnerState,
    catalog_courses_for_user,
    catalog_filter_options,
    course_get_launchable,
    course_get_visible,
)
from .models import Attempt, Course, Learner
from .panels import CoursePanel, course_panels
from .selectors import catalog_group_ids_for_user, group_get_administered
from .services import attempt_launch

CATALOG_PAGE_SIZE = 24
ATTEMPTS_PAGE_SIZE = 50
CSV_CHUNK = 2000

# 360Learning's mapping tables, as shown on the course dashboard: (platform field, model attribute,
# provider field). Display only: the mapping itself lives in the provider's mapping module.
FIELD_SOURCES: dict[str, list[tuple[str, str, str]]] = {
    Course.Kind.COURSE: [
        ("externalId", "platform_external_id", "id"),
        ("title", "title", "title"),
        ("name", "name", "title"),
        ("description", "description", "description"),
        ("image", "image", "image"),
        ("courseDuration", "duration_minutes", "estimated_content_length"),
        ("authors", "authors", "instructors"),
        ("lang", "lang", "locale.locale"),
        ("tagNames", "tags", "categories"),
        ("videoUrl", "video_url", "promo_video_url"),
    ],
    Course.Kind.LEARNING_PATH: [
        ("externalId", "platform_external_id", "id"),
        ("title", "title", "title"),
        ("description", "description", "description"),
        ("image", "image", "thumbnail"),
        ("modifiedAt", "modified_at", "last_modified"),
        ("lang", "lang", '"en" (no language upstream)'),
        ("authors", "authors", "editors.display_name"),
        ("duration", "duration_minutes", "estimated_content_length"),
        ("tagNames", "tags", "categories"),
    ],
}


# --------------------------------------------------------------------------- learner side


@login_required
@require_GET
def learner_catalog(request: HttpRequest) -> HttpResponse:
    """The catalogs the learner sees, with their own progress on each course; filtered by
    title, tag, language, type and that progress (GET, kept by the page links)."""
    group_ids = catalog_group_ids_for_user(user=request.user)
    courses = catalog_courses_for_user(user=request.user, group_ids=group_ids)
    filterset = LearnerCatalogFilter(request.GET, queryset=courses)
    page = Paginator(filterset.qs, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = filterset.values()
    context = {
        "page": page,
        "filters": filters,
        "q": filters["q"],
        "is_filtered": filterset.is_filtered,
        "options": catalog_filter_options(group_ids=group_ids),
        "kinds": Course.Kind.choices,
        "progress_states": LearnerState.choices,
    }
    return render(request, "catalog/learner_catalog.html", context)


@login_required
@require_GET
def course_page(request: HttpRequest, course_id: int) -> HttpResponse:
    """A course of the learner's catalogs: what it is, their progress, START. Another group's
    course, an archived one or none at all: 404."""
    course = course_get_visible(user=request.user, course_id=course_id)
    has_learner = getattr(request.user, "learner", None) is not None
    context = {
        "course": course,
        "can_start": has_learner and _is_http_url(course.launch_url),
        "has_learner": has_learner,
    }
    return render(request, "catalog/course_page.html", context)


def _is_http_url(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


@login_required
@require_POST
def course_start(request: HttpRequest, course_id: int) -> HttpResponse:
    """START: record the launch (closed attempt, 0 %), then send the learner to Udemy."""
    course = course_get_launchable(user=request.user, course_id=course_id)
    learner = _learner_of(request)
    # Only http(s) targets: a bad upstream URL (javascript:...) must never become a redirect.
    if not _is_http_url(course.launch_url):
        raise Http404("This course has no launch URL")
    # Only the organization's own Udemy site, checked again here for rows stored before the
    # mapping refused other hosts: START must never be an open redirect to a phishing page.
    # (The integration knows its provider's sites; this app imports no connector.)
    if not course.integration.launch_url_allowed(course.launch_url):
        context = {"course": course}
        return render(request, "catalog/launch_refused.html", context, status=409)
    attempt_launch(learner=learner, course=course)
    return HttpResponseRedirect(course.launch_url)


def _learner_of(request: HttpRequest) -> Learner:
    learner = getattr(request.user, "learner", None)
    if learner is None:  # e.g. a superuser without a learner profile: nothing to record
        raise Http404("No learner profile")
    return learner


# --------------------------------------------------------------------------- group admin side


@login_required
@require_GET
def group_catalog(request: HttpRequest, slug: str) -> HttpResponse:
    group = group_get_administered(user=request.user, slug=slug)
    filterset = GroupCatalogFilter(request.GET, queryset=course_list_for_group(group=group))
    courses = filterset.qs  # a value that does not validate is ignored, not an error
    page = Paginator(courses, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = filterset.values()
    context = {
        "group": group,
        "page": page,
        "filters": filters,
        "is_filtered": filterset.is_filtered,
        "options": course_filter_options(group=group),
        "kinds": Course.Kind.choices,
        "show_archived_url": _with_params(request, status=SHOW_ALL_STATUSES),
    }
    return render(request, "catalog/group_catalog.html", context)


def _with_params(request: HttpRequest, **params: str) -> str:
    """The current query string with `params` set, back on the first page."""
    query = {k: v for k, v in request.GET.items() if k != "page" and k not in params}
    return "?" + urlencode({**query, **params})


@dataclass(frozen=True)
class MappedField:
    target: str
    source: str
    value: object

    @property
    def is_url(self) -> bool:
        # Only http(s) values become links: an upstream "javascript:" URL stays plain text.
        return isinstance(self.value, str) and self.value.startswith(("https://", "http://"))


def _mapped_fields(course: Course) -> list[MappedField]:
    rows = []
    for target, attribute, source in FIELD_SOURCES.get(course.kind, []):
        if attribute == "description":
            continue  # rendered on its own, as stored (sanitized by the sync)
        if attribute == "tags":
            value: object = ", ".join(tag.name for tag in course.tags.all())
        elif attribute == "authors":
            value = ", ".join(course.authors or [])
        elif attribute == "duration_minutes" and course.duration_minutes is not None:
            value = f"{course.duration_minutes} min"
        else:
            value = getattr(course, attribute)
        rows.append(MappedField(target=target, source=source, value=value))
    return rows


@dataclass(frozen=True)
class AttemptRow:
    attempt: Attempt
    extra: tuple[str, ...] = ()  # the panels' columns (a platform's progress)

    @property
    def learner_name(self) -> str:
        """The learner's first and last name; "" when none is known (the e-mail stands alone)."""
        learner = self.attempt.learner
        return f"{learner.first_name} {learner.last_name}".strip()


@login_required
@require_GET
def course_dashboard(request: HttpRequest, slug: str, course_id: int) -> HttpResponse:
    group = group_get_administered(user=request.user, slug=slug)
    course = course_get_for_group(group=group, course_id=course_id)
    sort = attempt_sort_key(request.GET.get("sort", ""))
    attempts = attempt_list_for_course(course=course, sort=sort)
    if request.GET.get("format") == "csv":
        return _attempts_csv(course, attempts)
    page = Paginator(attempts, ATTEMPTS_PAGE_SIZE).get_page(request.GET.get("page"))
    panels = course_panels(course)
    rows = _attempt_rows(page.object_list, [p for p in panels if p.column_values])
    context = {
        "group": group,
        "course": course,
        "panels": panels,
        "extra_columns": [p.column_label for p in panels if p.column_values],
        "mapped": _mapped_fields(course),
        "summary": attempt_summary_for_course(course=course),
        "page": page,
        "rows": rows,
        "sort": sort,
        "columns": _attempt_columns(sort),
        "colspan": len(ATTEMPT_COLUMNS) + sum(1 for p in panels if p.column_values),
    }
    return render(request, "catalog/course_dashboard.html", context)


def _attempt_rows(attempts, panels: list[CoursePanel]) -> list[AttemptRow]:
    attempts = list(attempts)
    emails = sorted({a.learner.email.lower() for a in attempts})
    columns = [panel.column_values(emails) for panel in panels]
    return [
        AttemptRow(a, tuple(values.get(a.learner.email.lower(), "—") for values in columns))
        for a in attempts
    ]


@dataclass(frozen=True)
class SortColumn:
    key: str
    label: str  # lazily translated: read in the request's language
    next_sort: str  # the ?sort= value a click on the header applies
    direction: str  # "asc", "desc" or "" when not the current sort


ATTEMPT_COLUMNS = [
    ("email", _("Learner")),
    ("progress", _("Progress")),
    ("first_activity", _("First activity")),
    ("last_activity", _("Last activity")),
    ("completed_at", _("Completed at")),
    ("time_spent", _("Time spent")),
    ("number", _("Attempt")),
    ("state", _("State")),
]


def _attempt_columns(sort: str) -> list[SortColumn]:
    current, descending = sort.removeprefix("-"), sort.startswith("-")
    columns = []
    for key, label in ATTEMPT_COLUMNS:
        if key == current:
            direction = "desc" if descending else "asc"
            next_sort = key if descending else f"-{key}"
        else:
            direction, next_sort = "", key
        columns.append(SortColumn(key, label, next_sort, direction))
    return columns


# --------------------------------------------------------------------------- CSV export

CSV_HEADER = [
    "learner_email",
    "progress",
    "first_activity",
    "last_activity",
    "completed_at",
    "time_spent",
    "time_spent_ms",
    "attempt",
    "state",
    "completion_source",
]


def _csv_rows(attempts: QuerySet[Attempt]) -> Iterator[dict[str, object]]:
    for attempt in attempts.iterator(chunk_size=CSV_CHUNK):
        yield {
            "learner_email": attempt.learner.email,
            "progress": f"{attempt.progress:g}",
            "first_activity": attempt.first_activity,
            "last_activity": attempt.last_activity,
            "completed_at": attempt.completed_at,
            "time_spent": human_duration_ms(attempt.time_spent_ms),
            "time_spent_ms": attempt.time_spent_ms,
            "attempt": attempt.number,
            "state": "opened" if attempt.is_open else "closed",
            "completion_source": attempt.completion_source or "",
        }


def _attempts_csv(course: Course, attempts: QuerySet[Attempt]) -> StreamingHttpResponse:
    """Every attempt of the course, streamed (constant memory whatever the number of rows)."""
    filename = f"{slugify(course.title)[:60] or 'course'}-{course.pk}-learners.csv"
    return csv_response(CSV_HEADER, _csv_rows(attempts), filename=filename)


# --------------------------------------------------------------------------- group dashboard


@login_required
@require_GET
def group_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    group = group_get_administered(user=request.user, slug=slug)
    series = activity_series_for_group(group=group, days=90)
    chart = activity_chart(
        days=series.days, completions=series.completions, active_learners=series.active_learners
    )
    context = {
        "group": group,
        "chart": chart,
        "total_completions": sum(series.completions),
        "total_launched": sum(series.launched),
        "peak_active": max(series.active_learners, default=0),
        "time_spent_ms": time_spent_for_group(group=group),
    }
    return render(request, "catalog/group_dashboard.html", context)
