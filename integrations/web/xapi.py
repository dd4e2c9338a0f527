"""Settings → Integrations → Udemy → Real-time statistics (xAPI): generate, rotate or revoke
the client credentials Udemy Business sends statements with. The secret is rendered once, in
the answer to the POST that generated it (never stored in clear, never in a session)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from catalog.selectors import group_get_administered
from integrations.models import Integration
from integrations.selectors.integrations import integration_for_group
from integrations.services.xapi_credentials import (
    SCOPE,
    xapi_credentials_issue,
    xapi_credentials_revoke,
    xapi_status,
)

XAPI_PROVIDER = "udemy"  # Udemy Business is the provider that pushes xAPI statements


def xapi_card_context(request: HttpRequest, integration: Integration) -> dict[str, Any] | None:
    """What the "Real-time statistics (xAPI)" card shows, for a saved Udemy integration."""
    if integration.pk is None or integration.provider != XAPI_PROVIDER:
        return None
    return {"status": xapi_status(integration=integration), **xapi_urls(request, integration)}


def xapi_urls(request: HttpRequest, integration: Integration) -> dict[str, str]:
    statements = reverse("xapi:statements", kwargs={"integration_id": integration.pk})
    return {
        "token_url": request.build_absolute_uri(reverse("xapi:token")),
        "statements_url": request.build_absolute_uri(statements),
        "scope": SCOPE,
    }


@login_required
@require_POST
def xapi_credentials(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """POST action=generate (or rotate) | revoke."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = integration_for_group(group=group, provider=provider)
    if integration is None or provider != XAPI_PROVIDER:
        raise Http404("No Udemy integration")
    action = request.POST.get("action", "")
    if action == "revoke":
        done = xapi_credentials_revoke(integration=integration, actor=request.user)
        messages.success(
            request, gettext("xAPI credentials revoked.") if done else gettext("Nothing to revoke.")
        )
        return redirect("integrations:provider", slug=group.slug, provider=provider)
    if action != "generate":
        return HttpResponse("Unknown action.", status=400)
    issued = xapi_credentials_issue(integration=integration, actor=request.user)
    context = {
        "group": group,
        "integration": integration,
        "provider": provider,
        "issued": issued,
        **xapi_urls(request, integration),
    }
    response = render(request, "integrations/xapi_credentials.html", context)
    response["Cache-Control"] = "no-store"
    return response
