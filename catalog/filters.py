"""Filters of the catalog's lists (django-filter): the API's learners, courses and statistics,
and the console's catalog filter bar.

API filters are strict: a bad value is a 400 naming the parameter (see `shared.api.filters`).
The console's are lenient: a value that does not validate (an unknown type, a stale bookmark)
is left out and the other filters still apply, never an error page.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters import CharFilter, ChoiceFilter, FilterSet
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from shared.api.fields import StrictCharField, StrictSlugField
from shared.api.filters import ApiFilter

from .learner_selectors import LearnerState
from .models import Course
from .selectors import group_get_administered


class AdministeredGroupFilter(ApiFilter):
    """The slug of a group the user administers; another group's slug is a 404 (the group's
    existence is never revealed), a malformed one a 400."""

    def __init__(self, *, field_name: str, help_text: str) -> None:
        super().__init__(StrictSlugField(help_text=help_text), field_name=field_name)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if not value:
            return qs
        # As `catalog.api.access.administered_group` (which this module can't import: the
        # catalog's API imports the filters).
        try:
            group = group_get_administered(user=self.parent.request.user, slug=value)
        except Http404:
            raise NotFound(f"No group '{value}' among the groups you administer.") from None
        return qs.filter(**{self.field_name: group})


# --------------------------------------------------------------------------- API


class LearnerFilter(FilterSet):
    group = AdministeredGroupFilter(
        field_name="memberships__group", help_text="Only learners of this group."
    )
    email = ApiFilter(
        StrictCharField(max_length=254, help_text="Exact, case-insensitive."),
        lookup_expr="iexact",
    )


class CourseFilter(FilterSet):
    type = ApiFilter(serializers.ChoiceField(choices=Course.Kind.choices), field_name="kind")
    status = ApiFilter(serializers.ChoiceField(choices=Course.Status.choices))
    tag = ApiFilter(
        StrictCharField(max_length=200, help_text="Tag name (any case)."), method="filter_tag"
    )
    q = ApiFilter(
        StrictCharField(allow_blank=True, max_length=200, help_text="Text in the title."),
        field_name="title",
        lookup_expr="icontains",
    )

    @property
    def qs(self) -> QuerySet[Course]:
        courses = super().qs
        if not self.form.cleaned_data.get("status"):
            # Held and discarded items were never published: a consumer that imports
            # "everything not archived" must not get them unless it asks (`status=held`).
            courses = courses.exclude(status__in=(Course.Status.HELD, Course.Status.DISCARDED))
        return courses

    def filter_tag(self, courses: QuerySet[Course], name: str, value: str) -> QuerySet[Course]:
        # EXISTS, not a join: a course must not appear twice for "python" and "Python".
        tagged = Course.tags.through.objects.filter(
            course_id=OuterRef("pk"), tag__name__iexact=value
        )
        return courses.filter(Exists(tagged))


class StatisticFilter(FilterSet):
    externalCourseId = ApiFilter(
        StrictCharField(max_length=70, help_text='A course\'s externalId ("5", "path-5").'),
        method="filter_external_course_id",
    )
    learnerMail = ApiFilter(
        StrictCharField(max_length=254, help_text="Exact, case-insensitive."),
        field_name="learner__email",
        lookup_expr="iexact",
    )

    def filter_external_course_id(self, attempts: QuerySet, name: str, value: str) -> QuerySet:
        return attempts.filter(**Course.platform_external_id_lookup(value, prefix="course__"))


# --------------------------------------------------------------------------- console


class ConsoleFilterSet(FilterSet):
    """A lenient filter bar: a value that does not validate is left out."""

    def values(self) -> dict[str, str]:
        """The applied value of each filter, for the filter bar ("" when absent or ignored)."""
        self.form.is_valid()  # an unbound form has no cleaned_data: nothing applied
        cleaned = getattr(self.form, "cleaned_data", {})
        return {name: cleaned.get(name) or "" for name in self.filters}

    @property
    def is_filtered(self) -> bool:
        """Whether any filter applies (an empty result then offers to clear them)."""
        return any(self.values().values())


SHOW_ALL_STATUSES = "all"


class GroupCatalogFilter(ConsoleFilterSet):
    """The group catalog's filter bar (GET): title search, tag, language, type and status.

    Archived courses (gone upstream) are hidden unless asked for: `status=archived` lists
    only them, `status=all` both; no status (or one that does not validate) lists the active."""

    q = CharFilter(field_name="title", lookup_expr="icontains")
    tag = CharFilter(field_name="tags__name")
    lang = CharFilter()
    kind = ChoiceFilter(choices=Course.Kind.choices)
    status = ChoiceFilter(
        choices=[*Course.Status.choices, (SHOW_ALL_STATUSES, _("Active and archived"))],
        method="filter_status",
    )

    def filter_status(self, courses: QuerySet[Course], name: str, value: str) -> QuerySet:
        return courses if value == SHOW_ALL_STATUSES else courses.filter(status=value)

    def filter_queryset(self, queryset: QuerySet[Course]) -> QuerySet[Course]:
        courses = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            courses = courses.filter(status=Course.Status.ACTIVE)
        return courses

    @property
    def is_filtered(self) -> bool:
        """Any filter but the default status (the active courses)."""
        values = self.values()
        status = values.pop("status")
        return any(values.values()) or status not in ("", Course.Status.ACTIVE)


class LearnerCatalogFilter(ConsoleFilterSet):
    """The learner catalog's filter bar (GET): title search, tag, language, type, and the
    learner's own progress (`my_state`, annotated by `learner_selectors.with_learner_progress`)."""

    q = CharFilter(field_name="title", lookup_expr="icontains")
    tag = CharFilter(field_name="tags__name")
    lang = CharFilter()
    kind = ChoiceFilter(choices=Course.Kind.choices)
    progress = ChoiceFilter(choices=LearnerState.choices, field_name="my_state")
