"""What the run pages of both connectors share (Udemy sync runs, learning-platform runs): a
run history page, a run with a page of its errors, the run page and its live part polled by htmx,
and closing a stuck run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django_filters import FilterSet

from integrations.core.reaper import run_close
from lmsbridge.catalog.models import Group
from lmsbridge.catalog.selectors import group_get_administered

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


def run_list_page(
    request: HttpRequest,
    slug: str,
    runs_for_group: Callable[..., QuerySet],
    filterset_class: type[FilterSet],
) -> tuple[Group, FilterSet, Page]:
    """A run history of the group (sync runs or platform runs): filtered by the query string,
    a value that does not validate ignored, one page of it."""
    group = group_get_administered(user=request.user, slug=slug)
    filterset = filterset_class(request.GET or None, queryset=runs_for_group(group=group))
    page = Paginator(filterset.qs, RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    return group, filterset, page


def run_page(
    request: HttpRequest,
    slug: str,
    run_id: int,
    run_for_group: Callable[..., Any],
    errors_of: Callable[[Any], QuerySet],
) -> tuple[Group, Any, Page]:
    """A run of the group (sync or platform run; 404 for another group's) and a page of its
    errors."""
    group = group_get_administered(user=request.user, slug=slug)
    run = run_for_group(group=group, run_id=run_id)
    errors = Paginator(errors_of(run), ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    return group, run, errors


def live_run_views(
    live_context: Callable[[HttpRequest, str, int], dict[str, Any]],
    page_template: str,
    live_template: str,
) -> tuple[Callable[..., HttpResponse], Callable[..., HttpResponse]]:
    """A run's page and its live part, both from `live_context` so that the polling shows what
    the page showed. The live part is polled by htmx while the run is queued or running; a
    finished run's partial carries no `hx-trigger`, which stops the polling."""

    @login_required
    @require_GET
    def run_detail(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
        return render(request, page_template, live_context(request, slug, run_id))

    @login_required
    @require_GET
    def run_progress(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
        return render(request, live_template, live_context(request, slug, run_id))

    return run_detail, run_progress


def run_close_view(
    request: HttpRequest, slug: str, run_id: int, run_for_group: Callable[..., Any], to: str
) -> HttpResponse:
    """POST: a platform superuser closes a stuck run (`core.reaper.run_close`); 404 for anyone
    else, as for a run they may not see."""
    if not request.user.is_superuser:
        raise Http404("No such run")
    group = group_get_administered(user=request.user, slug=slug)
    run = run_for_group(group=group, run_id=run_id)
    if run_close(run=run, actor=request.user):
        messages.success(request, f"Run #{run.pk} was closed as failed.")
    else:
        messages.info(request, f"Run #{run.pk} had already finished.")
    return redirect(to, slug=slug, run_id=run.pk)
