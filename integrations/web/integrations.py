"""Settings → Integrations pages of a group (group admins only; others get 404).

Thin views: `group_get_administered` scopes everything to the group, selectors read, services
write. Every state change is a POST (CSRF-protected); the client secret is never put in a
context (the form's password widget does not render values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Group
from catalog.selectors import group_get_administered
from integrations.connectors.providers import PROVIDER_CHOICES, PROVIDERS
from integrations.filters import RunHistoryFilter
from integrations.models import Integration, SyncRun
from integrations.selectors.health import integration_health
from integrations.selectors.integrations import (
    ErrorDigest,
    audit_entries_for_integration,
    integration_for_group,
    integration_states_for_group,
    run_active_for_integration,
    run_chart_rows,
    run_error_digests,
    run_errors,
    run_get_for_group,
    run_list_for_group,
)
from integrations.selectors.recent_change import change_advice
from integrations.services.content_review import (
    REVIEW_ACTIONS,
    ReviewCountMismatch,
    ReviewWhileSyncing,
    courses_discarded,
    courses_held,
    courses_missing,
)
from integrations.services.setup import (
    integration_check_again,
    integration_deactivate,
    integration_save,
)
from integrations.services.sync import sync_request
from integrations.web.run_pages import (
    duration_text,
    run_list_page,
    run_page_context,
    run_views,
)
from integrations.web.xapi import xapi_card_context
from shared.charts import run_duration_chart, run_items_chart

AUDIT_PAGE_SIZE = 10


def audit_page(request: HttpRequest, entries: QuerySet) -> Page:
    """One page of an audit trail (`?audit_page=`, apart from the page's other lists)."""
    return Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("audit_page"))


@dataclass(frozen=True)
class RunRow:
    run: SyncRun
    duration: str
    errors: ErrorDigest | None = None


@login_required
@require_GET
def integration_list(request: HttpRequest, slug: str) -> HttpResponse:
    group = group_get_administered(user=request.user, slug=slug)
    states = integration_states_for_group(group=group)
    return render(
        request,
        "integrations/integration_list.html",
        {"group": group, "states": states, "providers": PROVIDER_CHOICES},
    )


# --------------------------------------------------------------------------- provider page


def settings_form(
    request: HttpRequest,
    form_for: Callable[..., forms.Form],
    render_form: Callable[..., HttpResponse],
) -> forms.Form | HttpResponse:
    """A settings page's form (integration or platform connection): on GET, the page with the
    saved settings; on POST, the valid bound form to save, or the page again with its errors
    (400). `form_for(data=None)` builds the form, `render_form(form, status=200)` the page."""
    if request.method == "GET":
        return render_form(form_for())
    form = form_for(data=request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Please correct the errors below."))
        return render_form(form, status=400)
    return form


def _integration_or_new(group: Group, provider: str) -> Integration:
    """The saved integration, or an unsaved one (the first SETUP or Save creates it)."""
    return integration_for_group(group=group, provider=provider) or Integration(
        group=group, provider=provider
    )


@login_required
@require_http_methods(["GET", "POST"])
def integration_detail(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """The integration form: SETUP INTEGRATION (verify, save, activate) or Save. Credentials are
    stored only once verified (`integration_save`); a refusal changes nothing."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = _integration_or_new(group, provider)
    form = settings_form(
        request,
        partial(PROVIDERS[provider].settings_form.for_integration, integration),
        partial(_render_detail, request, group, integration),
    )
    if isinstance(form, HttpResponse):
        return form
    result = integration_save(
        integration=integration,
        actor=request.user,
        data=form.cleaned_data,
        activate=request.POST.get("action") == "setup",
    )
    if not result.ok:
        # Nothing was stored: re-render the typed values (never the secret) with the reason.
        form.add_error(None, result.message)
        return _render_detail(request, group, integration, form, status=400)
    messages.success(request, result.message)
    return redirect("integrations:provider", slug=group.slug, provider=provider)


def _render_detail(
    request: HttpRequest, group: Group, integration: Integration, form, status: int = 200
) -> HttpResponse:
    context = {
        "group": group,
        "integration": integration,
        "provider": integration.provider,
        "provider_label": PROVIDERS[integration.provider].label,
        "form": form,
        "audit": audit_page(request, audit_entries_for_integration(integration=integration)),
        "run_url_name": "integrations:run",
        "sync_kinds": SyncRun.Kind.choices,
    }
    if integration.pk:
        health = integration_health(integration=integration)
        context.update(
            health=health,
            health_kinds=[
                (SyncRun.Kind.CONTENT.label, health.content),
                (SyncRun.Kind.STATS.label, health.stats),
            ],
            stale_hours=f"{settings.SYNC_STALE_AFTER_HOURS:g}",
            xapi=xapi_card_context(request, integration),
        )
    if integration.status == Integration.Status.ERROR:
        # The admin's own change the failures followed, named before any other advice.
        context["change_advice"] = change_advice(integration=integration)
    return render(request, "integrations/integration_detail.html", context, status=status)


def _saved_integration(group: Group, provider: str) -> Integration:
    integration = _integration_or_new(group, provider)
    if integration.pk is None:
        raise Http404("The integration is not set up")
    return integration


REVIEW_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def integration_review(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """GET: the catalog changes a content sync held (courses no longer on Udemy, new items
    held); POST: the admin's decision, confirmed by the number of items (`content_review`)."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = _saved_integration(group, provider)
    status = 200
    if request.method == "POST":
        action = REVIEW_ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            return HttpResponse("Unknown decision.", status=400)
        decide, needs_count, done = action
        kwargs: dict[str, Any] = {"integration": integration, "actor": request.user}
        try:
            if needs_count:
                kwargs["count"] = int(request.POST.get("count", ""))
            changed = decide(**kwargs)
        except (ValueError, ReviewWhileSyncing) as exc:  # not a number, not the pending one
            message = (
                str(exc)
                if isinstance(exc, ReviewCountMismatch | ReviewWhileSyncing)
                else gettext("Type the number of items to confirm.")
            )
            messages.error(request, message)
            status = 409 if isinstance(exc, ReviewWhileSyncing) else 400
        else:
            messages.success(request, done % {"n": changed})
            return redirect("integrations:review", slug=group.slug, provider=provider)
    missing = courses_missing(integration=integration).order_by("title", "id")
    held = courses_held(integration=integration).order_by("title", "id")
    discarded = courses_discarded(integration=integration).order_by("title", "id")
    context = {
        "group": group,
        "integration": integration,
        "provider": provider,
        "provider_label": PROVIDERS[provider].label,
        "missing": Paginator(missing, REVIEW_PAGE_SIZE).get_page(request.GET.get("missing_page")),
        "held": Paginator(held, REVIEW_PAGE_SIZE).get_page(request.GET.get("held_page")),
        "discarded_count": discarded.count(),
        "archive_share": f"{settings.SYNC_ARCHIVE_MAX_SHARE:.0%}",
        "publish_share": f"{settings.SYNC_PUBLISH_MAX_SHARE:.0%}",
        "publish_min": settings.SYNC_PUBLISH_MIN_HELD,
        "content_running": run_active_for_integration(
            integration=integration, kind=SyncRun.Kind.CONTENT
        ),
    }
    return render(request, "integrations/integration_review.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def integration_deactivate_confirm(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """GET: the confirmation step; POST: DEACTIVATE (the catalog and statistics are kept)."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = _saved_integration(group, provider)
    if request.method == "GET":
        context = {
            "group": group,
            "integration": integration,
            "provider_label": PROVIDERS[provider].label,
        }
        return render(request, "integrations/integration_deactivate.html", context)
    integration_deactivate(integration=integration, actor=request.user)
    messages.success(
        request, gettext("The integration is inactive. Synced courses and statistics are kept.")
    )
    return redirect("integrations:provider", slug=group.slug, provider=provider)


@login_required
@require_POST
def integration_check(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """Check again: the stored credentials go through the check a save runs, for an Error about
    the credentials or reaching Udemy that may be over without any change (`integration_check_
    again`); a pass clears the Error, a refusal changes nothing and says why."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = _saved_integration(group, provider)
    result = integration_check_again(integration=integration, actor=request.user)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("integrations:provider", slug=group.slug, provider=provider)


@login_required
@require_POST
def integration_sync(request: HttpRequest, slug: str, provider: str, kind: str) -> HttpResponse:
    """Sync content now / Sync statistics now: queue a manual run and show it."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = _saved_integration(group, provider)
    if kind not in SyncRun.Kind.values:
        raise Http404("No such sync")
    if not integration.accepts_runs:
        messages.error(request, gettext("Set the integration up before synchronizing."))
        return redirect("integrations:provider", slug=group.slug, provider=provider)
    run = sync_request(
        integration=integration, kind=kind, trigger=SyncRun.Trigger.MANUAL, user=request.user
    )
    if run.status == SyncRun.Status.SKIPPED:
        already = {
            SyncRun.Kind.CONTENT: gettext("A content sync is already running."),
            SyncRun.Kind.STATS: gettext("A statistics sync is already running."),
        }
        messages.warning(request, already[kind])
        run = run_active_for_integration(integration=integration, kind=kind) or run
    # A queued run needs no flash message: the run page's live status says "Queued", then
    # "Running", then how it ended (a message would still read "queued" after the end).
    return redirect("integrations:run", slug=group.slug, run_id=run.pk)


# --------------------------------------------------------------------------- history and runs


def _run_rows(runs: list[SyncRun]) -> list[RunRow]:
    runs = list(runs)
    digests = run_error_digests(run_ids=[run.pk for run in runs])
    return [RunRow(run, duration_text(run.duration), digests.get(run.pk)) for run in runs]


def _history_charts(runs: list) -> list[str]:
    """Items and durations in two charts: one axis for both read "0.1 0.1 0 0"."""
    runs = list(runs)
    return [chart for chart in (run_items_chart(runs), run_duration_chart(runs)) if chart]


@login_required
@require_GET
def run_history(request: HttpRequest, slug: str) -> HttpResponse:
    group, filterset, page = run_list_page(request, slug, run_list_for_group, RunHistoryFilter)
    context = {
        "group": group,
        "filter_form": filterset.form,
        "page": page,
        "rows": _run_rows(page.object_list),
        "charts": _history_charts(run_chart_rows(runs=filterset.qs)),
    }
    return render(request, "integrations/run_history.html", context)


def _run_live_context(request: HttpRequest, slug: str, run_id: int) -> dict[str, Any]:
    """The run page's live part: status, progress per stream, counts, archival decision and a
    page of errors (searched and paged by the query string, which the polling repeats)."""
    query = request.GET.get("q", "").replace("\x00", "").strip()
    context = run_page_context(
        request, slug, run_id, run_get_for_group, lambda run: run_errors(run=run, query=query)
    )
    return {**context, "q": query}


# A run: counts, archival decision, unmatched learners, searchable per-item errors.
run_detail, run_progress, run_close_sync = run_views(
    _run_live_context,
    run_get_for_group,
    page_template="integrations/run_detail.html",
    live_template="integrations/_run_live.html",
    run_url="integrations:run",
)
