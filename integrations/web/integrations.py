"""Settings → Integrations pages of a group (group admins only; others get 404).

Thin views: `group_get_administered` scopes everything to the group, selectors read, services
write. Every state change is a POST (CSRF-protected); the client secret is never put in a
context (the form's password widget does not render values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.core.registry import PROVIDER_CHOICES, PROVIDERS, provider_module
from integrations.models import Integration, SyncRun
from integrations.selectors import (
    audit_entries_for_integration,
    integration_for_group,
    integration_states_for_group,
    run_active_for_integration,
    run_chart_rows,
    run_errors,
    run_get_for_group,
    run_list_for_group,
)
from integrations.services.setup import (
    integration_activate,
    integration_deactivate,
    integration_update,
)
from integrations.services.sync import sync_request
from integrations.web.run_filters import RunFilterForm
from lmsbridge.catalog.models import Group
from lmsbridge.catalog.selectors import group_get_administered
from lmsbridge.charts import run_history_chart

RUNS_PAGE_SIZE = 25
ERRORS_PAGE_SIZE = 50


def duration_text(delta: timedelta | None) -> str:
    """A run's duration as people read it: "—", "4.2 s", "3 min 05 s", "1 h 02 min"."""
    if delta is None:
        return "—"
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class RunRow:
    run: SyncRun
    duration: str


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


def _integration_or_new(group: Group, provider: str) -> Integration:
    """The saved integration, or an unsaved one (the first SETUP or Save creates it)."""
    return integration_for_group(group=group, provider=provider) or Integration(
        group=group, provider=provider
    )


@login_required
@require_http_methods(["GET", "POST"])
def integration_detail(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """The integration form: SETUP INTEGRATION (save + activate) or Save (no activation)."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = _integration_or_new(group, provider)
    form_class = provider_module(provider).SettingsForm
    if request.method == "GET":
        form = form_class.for_integration(integration)
        return _render_detail(request, group, integration, form)
    form = form_class.for_integration(integration, data=request.POST)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return _render_detail(request, group, integration, form, status=400)
    integration_update(integration=integration, actor=request.user, data=form.cleaned_data)
    if request.POST.get("action") != "setup":
        messages.success(request, "Settings saved.")
        return redirect("integrations:provider", slug=group.slug, provider=provider)
    result = integration_activate(integration=integration, actor=request.user)
    if not result.ok:
        # Re-render (not redirect) so the admin keeps the typed values; never the secret.
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
        "audit": audit_entries_for_integration(integration=integration),
        "sync_kinds": SyncRun.Kind.choices,
    }
    return render(request, "integrations/integration_detail.html", context, status=status)


def _saved_integration(group: Group, provider: str) -> Integration:
    integration = _integration_or_new(group, provider)
    if integration.pk is None:
        raise Http404("The integration is not set up")
    return integration


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
        request, "The integration is inactive. Synced courses and statistics are kept."
    )
    return redirect("integrations:provider", slug=group.slug, provider=provider)


@login_required
@require_POST
def integration_sync(request: HttpRequest, slug: str, provider: str, kind: str) -> HttpResponse:
    """Sync content now / Sync statistics now: queue a manual run and show it."""
    group = group_get_administered(user=request.user, slug=slug)
    integration = _saved_integration(group, provider)
    if kind not in SyncRun.Kind.values:
        raise Http404("No such sync")
    if not integration.is_active:
        messages.error(request, "Set the integration up before synchronizing.")
        return redirect("integrations:provider", slug=group.slug, provider=provider)
    run = sync_request(
        integration=integration, kind=kind, trigger=SyncRun.Trigger.MANUAL, user=request.user
    )
    label = SyncRun.Kind(kind).label.lower()
    if run.status == SyncRun.Status.SKIPPED:
        messages.warning(request, f"A {label} sync is already running.")
        run = run_active_for_integration(integration=integration, kind=kind) or run
    else:
        messages.success(request, f"The {label} sync is queued.")
    return redirect("integrations:run", slug=group.slug, run_id=run.pk)


# --------------------------------------------------------------------------- history and runs


@login_required
@require_GET
def run_history(request: HttpRequest, slug: str) -> HttpResponse:
    group = group_get_administered(user=request.user, slug=slug)
    filter_form = RunFilterForm(request.GET or None)
    runs = run_list_for_group(group=group, **filter_form.filters())
    page = Paginator(runs, RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "group": group,
        "filter_form": filter_form,
        "page": page,
        "rows": [RunRow(run, duration_text(run.duration)) for run in page.object_list],
        "chart": run_history_chart(run_chart_rows(runs=runs)),
    }
    return render(request, "integrations/run_history.html", context)


@login_required
@require_GET
def run_detail(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """A run: counts, archival decision, unmatched learners, searchable per-item errors."""
    group = group_get_administered(user=request.user, slug=slug)
    run = run_get_for_group(group=group, run_id=run_id)
    query = request.GET.get("q", "").replace("\x00", "").strip()
    errors = Paginator(run_errors(run=run, query=query), ERRORS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "group": group,
        "run": run,
        "duration": duration_text(run.duration),
        "errors": errors,
        "q": query,
    }
    return render(request, "integrations/run_detail.html", context)


@login_required
@require_GET
def run_progress(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """The live part of the run page, polled by htmx while the run is queued or running; the
    partial of a finished run carries no `hx-trigger`, which stops the polling."""
    group = group_get_administered(user=request.user, slug=slug)
    run = run_get_for_group(group=group, run_id=run_id)
    context = {"group": group, "run": run, "duration": duration_text(run.duration)}
    return render(request, "integrations/_run_live.html", context)
