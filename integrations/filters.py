"""Filters of the run lists (django-filter): the API's sync runs and platform runs, and the
console's sync and platform run histories.

API filters are strict: a bad value is a 400 naming the parameter (see `shared.api.filters`).
The console's are lenient: a value that does not validate is left out and the other filters
still apply, never an error page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, FilterSet
from rest_framework import serializers

from catalog.filters import AdministeredGroupFilter
from integrations.models import PlatformCourse, PlatformRun, SyncRun
from shared.api.fields import StrictCharField
from shared.api.filters import ApiFilter

# --------------------------------------------------------------------------- API


class SyncRunFilter(FilterSet):
    group = AdministeredGroupFilter(
        field_name="integration__group", help_text="Slug of a group you administer."
    )
    kind = ApiFilter(serializers.ChoiceField(choices=SyncRun.Kind.choices))
    status = ApiFilter(serializers.ChoiceField(choices=SyncRun.Status.choices))


class PlatformRunFilter(FilterSet):
    operation = ApiFilter(
        serializers.ChoiceField(choices=PlatformRun.Kind.choices), field_name="kind"
    )
    status = ApiFilter(serializers.ChoiceField(choices=PlatformRun.Status.choices))
    trigger = ApiFilter(serializers.ChoiceField(choices=PlatformRun.Trigger.choices))


class PlatformCourseFilter(FilterSet):
    q = ApiFilter(
        StrictCharField(max_length=200, help_text="Part of the title (any case)."),
        field_name="title",
        lookup_expr="icontains",
    )
    match = ApiFilter(serializers.ChoiceField(choices=PlatformCourse.Match.choices))


# --------------------------------------------------------------------------- console


class FilterBarForm(forms.Form):
    """The look of a console filter bar: small selects side by side."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm w-auto"


class RunHistoryFilter(FilterSet):
    """The sync history's filter bar (GET): kind, status and trigger."""

    kind = ChoiceFilter(label=_("Kind"), choices=SyncRun.Kind.choices, empty_label=_("Any kind"))
    status = ChoiceFilter(
        label=_("Status"), choices=SyncRun.Status.choices, empty_label=_("Any status")
    )
    trigger = ChoiceFilter(
        label=_("Trigger"), choices=SyncRun.Trigger.choices, empty_label=_("Any trigger")
    )

    class Meta:
        form = FilterBarForm


class PlatformRunHistoryFilter(RunHistoryFilter):
    """The platform runs' filter bar: the same, with the kinds and triggers of platform runs."""

    kind = ChoiceFilter(
        label=_("Kind"), choices=PlatformRun.Kind.choices, empty_label=_("Any kind")
    )
    status = ChoiceFilter(
        label=_("Status"), choices=PlatformRun.Status.choices, empty_label=_("Any status")
    )
    trigger = ChoiceFilter(
        label=_("Trigger"), choices=PlatformRun.Trigger.choices, empty_label=_("Any trigger")
    )
