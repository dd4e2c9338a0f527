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
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST
from django_filters import FilterSet

from catalog.models import Group
from catalog.selectors import group_get_administered
from integrations.core.reaper import run_close

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


def run_page_context(
    request: HttpRequest,
    slug: str,
    run_id: int,
    run_for_group: Callable[..., Any],
    errors_of: Callable[[Any], QuerySet],
) -> dict[str, Any]:
    """What every run page shows of a run of the group (sync or platform run; 404 for another
    group's): the group, the run, its duration, a page of its errors and the query string (which
    the polling repeats)."""
    group = group_get_administered(user=request.user, slug=slug)
    run = run_for_group(group=group, run_id=run_id)
    errors = Paginator(errors_of(run), ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "group": group,
        "run": run,
        "duration": duration_text(run.duration),
        "errors": errors,
        "query_string": request.GET.urlencode(),
    }


def run_views(
    live_context: Callable[[HttpRequest, str, int], dict[str, Any]],
    run_for_group: Callable[..., Any],
    *,
    page_template: str,
    live_template: str,
    run_url: str,
) -> tuple[Callable[..., HttpResponse], ...]:
    """A run's page, its live part and closing it: (run_detail, run_progress, run_close).

    The page and its live part both come from `live_context`, so that the polling shows what
    the page showed. The live part is polled by htmx while the run is queued or running; a
    finished run's partial carries no `hx-trigger`, which stops the polling. Closing is for a
    platform superuser, who closes a stuck run (`core.reaper.run_close`) and is sent back to
    `run_url`; anyone else gets a 404, as for a run they may not see."""

    @login_required
    @require_GET
    def run_detail(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
        return render(request, page_template, live_context(request, slug, run_id))

    @login_required
    @require_GET
    def run_progress(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
        return render(request, live_template, live_context(request, slug, run_id))

    @login_required
    @require_POST
    def run_close_view(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
        if not request.user.is_superuser:
            raise Http404("No such run")
        group = group_get_administered(user=request.user, slug=slug)
        run = run_for_group(group=group, run_id=run_id)
        if run_close(run=run, actor=request.user):
            messages.success(
                request, gettext("Run #%(number)s was closed as failed.") % {"number": run.pk}
            )
        else:
            messages.info(
                request, gettext("Run #%(number)s had already finished.") % {"number": run.pk}
            )
        return redirect(run_url, slug=slug, run_id=run.pk)

    return run_detail, run_progress, run_close_view
