"""Settings → Integrations → <provider> → Daily times: the integration's content, statistics
and evening statistics times, a time picker each, in the schedules' zone (`services.sync_times`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from catalog.selectors import group_get_administered
from integrations.connectors.providers import PROVIDERS
from integrations.selectors.sync_times import (
    SLOTS,
    site_time,
    sync_times_of,
    zone_name,
)
from integrations.services.sync_times import sync_times_set


class SyncTimesForm(forms.Form):
    """One optional time per slot: empty is the site's time."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for slot in SLOTS:
            self.fields[slot] = forms.TimeField(
                label=SLOT_LABELS[slot],
                required=False,
                input_formats=["%H:%M", "%H:%M:%S"],
                widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 60}),
                help_text=_("Empty: the site's time, %(time)s.")
                % {"time": f"{site_time(slot):%H:%M}"},
            )


SLOT_LABELS = {
    "content": _("Content sync (courses, learning paths, tags)"),
    "stats": _("Statistics sync"),
    "stats_evening": _("Evening statistics sync"),
}


@login_required
@require_http_methods(["GET", "POST"])
def sync_times_edit(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    from integrations.web.integrations import _saved_integration

    group = group_get_administered(user=request.user, slug=slug)
    integration = _saved_integration(group, provider)
    current = sync_times_of(integration)
    initial = {t.slot: t.at for t in current if t.own}
    form = SyncTimesForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changed = sync_times_set(
                integration,
                {slot: form.cleaned_data.get(slot) for slot in SLOTS},
                actor=request.user,
            )
            if changed:
                messages.success(request, gettext("Daily times saved: the schedule follows them."))
            else:
                messages.info(request, gettext("Nothing changed."))
            return redirect("integrations:provider", slug=group.slug, provider=provider)
        status = 400
    context = {
        "group": group,
        "integration": integration,
        "provider_label": PROVIDERS[provider].label,
        "form": form,
        "zone": zone_name(),
        "times": current,
    }
    return render(request, "integrations/sync_times.html", context, status=status)


def schedule_card(integration) -> dict:
    """The daily times for the integration's page: each slot's local time, whether it is the
    integration's own, and the zone they follow."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    return {
        "zone": zone_name(),
        "zone_now": timezone.now().astimezone(ZoneInfo(zone_name())).tzname(),
        "times": [
            {"label": SLOT_LABELS[t.slot], "at": t.at, "own": t.own}
            for t in sync_times_of(integration)
        ],
    }
