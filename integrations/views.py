"""Settings → Integrations pages of a group (group admins only; others get 404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lmsbridge.catalog.selectors import group_get_administered

from .registry import PROVIDERS
from .selectors import integration_states_for_group


@login_required
def integration_list(request: HttpRequest, slug: str) -> HttpResponse:
    group = group_get_administered(user=request.user, slug=slug)
    states = integration_states_for_group(group=group)
    return render(
        request,
        "integrations/integration_list.html",
        {"group": group, "states": states, "providers": PROVIDERS},
    )
