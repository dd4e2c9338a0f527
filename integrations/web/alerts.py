"""Settings → Integrations → <provider>: an admin turns the group's alert e-mails on or off
for themselves."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from catalog.selectors import group_get_administered
from integrations.services.alerts import alerts_set_enabled


@login_required
@require_POST
def alerts_toggle(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    group = group_get_administered(user=request.user, slug=slug)
    enabled = request.POST.get("enabled") == "1"
    alerts_set_enabled(user=request.user, group=group, enabled=enabled)
    message = (
        gettext("Alert e-mails turned on for you in %(group)s.")
        if enabled
        else gettext("Alert e-mails turned off for you in %(group)s.")
    )
    messages.success(request, message % {"group": group.name})
    return redirect("integrations:provider", slug=group.slug, provider=provider)
