"""Settings → Learning platform pages of a group (group admins only; others get 404).

Routes in `integrations.web.urls.platform_urlpatterns`, under ``groups/<slug>/settings/platform/``.
Thin views: the group is scoped by
`group_get_administered`, selectors read, services write; every change is a CSRF-protected
POST. Secrets never reach a context (the form's password widgets render no value).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Group
from catalog.selectors import group_get_administered
from integrations.connectors.platforms import PLATFORMS, platform_for, platform_run_kinds
from integrations.core.kinds import Capability
from integrations.filters import PlatformRunHistoryFilter
from integrations.models import PlatformConnection, PlatformCourse, PlatformError, PlatformRun
from integrations.platforms.base import PlatformApiError
from integrations.selectors import platforms as selectors
from integrations.selectors.integrations import run_error_digests
from integrations.services import platforms as services
from integrations.web.forms import PlatformConnectionForm
from integrations.web.integrations import RunRow, audit_page, settings_form
from integrations.web.run_pages import (
    duration_text,
    run_list_page,
    run_page_context,
    run_views,
)

PLAN_PAGE_SIZE = 100
COURSES_PAGE_SIZE = 50


def _saved_connection(group: Group) -> PlatformConnection:
    connection = selectors.connection_for_group(group=group)
    if connection is None:
        raise Http404("No platform connection")
    return connection


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"platforms/{template}", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def connection_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The connection form: Save, or Save and test connection. Settings that change what the
    connection reaches are verified before they are stored (`connection_save`); a refusal
    stores nothing and the form comes back with the reason.

    The form holds only the chosen platform's fields: choosing another platform asks for its
    fields (`?kind=`: htmx swaps them in; without JavaScript, the "switch" button posts the
    choice and the page comes back with them, nothing saved)."""
    group = group_get_administered(user=request.user, slug=slug)
    connection = services.connection_get_or_new(group=group)
    render_form = partial(_render_connection, request, group, connection)
    chosen = request.POST.get("kind") if request.method == "POST" else request.GET.get("kind")
    if request.method == "GET" or request.POST.get("action") == "switch":
        return render_form(PlatformConnectionForm.for_connection(connection, kind=chosen or ""))
    form = settings_form(
        request, partial(PlatformConnectionForm.for_connection, connection), render_form
    )
    if isinstance(form, HttpResponse):
        return form
    result = services.connection_save(
        connection=connection,
        actor=request.user,
        data=form.cleaned_data,
        test=request.POST.get("action") == "test",
    )
    if not result.ok and result.changed:
        form.add_error(None, result.message)
        return render_form(form, status=400)
    if not result.ok:  # "Save and test" of unchanged settings: the verdict on the stored ones
        messages.error(request, result.message)
    else:
        messages.success(request, result.message)
    return redirect("platforms:connection", slug=group.slug)


def _render_connection(request, group, connection, form, status: int = 200) -> HttpResponse:
    context = {
        "group": group,
        "connection": connection,
        "form": form,
        "platforms": PLATFORMS,
        "can_push": bool(connection.pk and _takes_push(connection)),
        # a new connection's page lists its refused first saves, if any
        "audit": audit_page(request, selectors.audit_entries_for_connection(connection=connection)),
        "course_links": _course_links(connection),
        "run_kinds": platform_run_kinds(connection.kind) if connection.pk else (),
        "course_matches": selectors.platform_course_counts(connection=connection)
        if connection.pk
        else {},
        "recent_runs": list(selectors.platform_run_list_for_group(group=group)[:5])
        if connection.pk
        else [],
    }
    return _render(request, "connection.html", context, status=status)


def _course_links(connection: PlatformConnection) -> list:
    """Courses linked to a LearnUpon group (enrolling its members), for the page to list."""
    if not (connection.pk and _takes_push(connection)):
        return []
    return platform_for(connection.kind).links_made(connection=connection)


def _takes_push(connection: PlatformConnection) -> bool:
    return platform_for(connection.kind).supports(Capability.PUSH)


@login_required
@require_POST
def auto_enroll(request: HttpRequest, slug: str) -> HttpResponse:
    """Auto-enrollment: `preview` (the dry run: how many enrollments, and the confirmation
    form), `enable` (with the confirmed number), `disable`, `unlink_earlier`."""
    group = group_get_administered(user=request.user, slug=slug)
    connection = _saved_connection(group)
    action = request.POST.get("action", "")
    back = redirect("platforms:connection", slug=group.slug)
    try:
        if action == "preview":
            estimate = services.auto_enroll_preview(connection=connection)
            context = {"group": group, "connection": connection, "estimate": estimate}
            return _render(request, "auto_enroll.html", context)
        if action == "enable":
            confirm = request.POST.get("confirm_enrollments", "").replace(",", "").strip()
            estimate = services.auto_enroll_set(
                connection=connection,
                actor=request.user,
                enabled=True,
                confirm_enrollments=int(confirm) if confirm.isdigit() else None,
                re_enroll_completed=request.POST.get("re_enroll_completed") == "1",
            )
            messages.success(
                request,
                gettext(
                    "Auto-enrollment is on, confirmed for %(estimate)s: the next push links the "
                    "courses within that number, and asks again beyond it."
                )
                % {"estimate": estimate.message},
            )
        elif action == "disable":
            services.auto_enroll_set(connection=connection, actor=request.user, enabled=False)
            messages.success(
                request, gettext("Auto-enrollment is off: the next push unlinks the courses.")
            )
        elif action == "unlink_earlier":
            marked = services.auto_enroll_unlink_earlier(connection=connection, actor=request.user)
            messages.success(
                request,
                ngettext(
                    "The next push unlinks %(count)s course.",
                    "The next push unlinks %(count)s courses.",
                    marked,
                )
                % {"count": marked},
            )
        else:
            messages.error(request, gettext("Choose what to do with auto-enrollment."))
    except services.AutoEnrollNotConfirmed as exc:
        messages.error(request, exc.message)
    except PlatformApiError as exc:
        messages.error(
            request, gettext("LearnUpon could not be read: %(error)s") % {"error": exc.message}
        )
    return back


def _test_and_report(request: HttpRequest, connection: PlatformConnection) -> None:
    check = services.connection_test(connection=connection, actor=request.user)
    if check.ok:
        messages.success(
            request, gettext("Connection OK. %(details)s") % {"details": check.message}
        )
    else:
        messages.error(
            request,
            gettext("Connection failed (%(verdict)s): %(details)s")
            % {"verdict": check.verdict, "details": check.message},
        )


@login_required
@require_POST
def connection_test_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Test connection with the saved settings: a clear verdict, nothing else changes."""
    group = group_get_administered(user=request.user, slug=slug)
    _test_and_report(request, _saved_connection(group))
    return redirect("platforms:connection", slug=group.slug)


@login_required
@require_POST
def run_request(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Import directory now / Push now / Dry run: queue (or, dry, run) and show the run."""
    group = group_get_administered(user=request.user, slug=slug)
    connection = _saved_connection(group)
    if kind not in PlatformRun.Kind.values:
        raise Http404("No such run kind")
    dry_run = kind == PlatformRun.Kind.PUSH and request.POST.get("dry_run") == "1"
    if kind == PlatformRun.Kind.PUSH and not _takes_push(connection):
        messages.error(
            request,
            gettext("%(platform)s connections can't receive a push.")
            % {"platform": connection.get_kind_display()},
        )
        return redirect("platforms:connection", slug=group.slug)
    if kind not in platform_run_kinds(connection.kind):
        messages.error(
            request,
            gettext("%(platform)s connections have no %(kind)s.")
            % {
                "platform": connection.get_kind_display(),
                "kind": PlatformRun.Kind(kind).label.lower(),
            },
        )
        return redirect("platforms:connection", slug=group.slug)
    if not dry_run and not connection.accepts_runs:
        messages.error(request, gettext("Test the connection successfully before running it."))
        return redirect("platforms:connection", slug=group.slug)
    run = services.platform_run_request(
        connection=connection,
        kind=kind,
        trigger=PlatformRun.Trigger.MANUAL,
        user=request.user,
        dry_run=dry_run,
    )
    if run.status == PlatformRun.Status.SKIPPED:
        messages.warning(request, run.error_summary)
    elif dry_run:
        messages.info(
            request, gettext("Dry run: nothing was sent. Here is what a push would send.")
        )
    else:
        messages.success(
            request, gettext("The %(kind)s is queued.") % {"kind": run.get_kind_display().lower()}
        )
    return redirect("platforms:run", slug=group.slug, run_id=run.pk)


@login_required
@require_GET
def run_list(request: HttpRequest, slug: str) -> HttpResponse:
    """History of the group's imports and pushes, read like the sync history: how each run
    ended, when, what, its first error; the counts after."""
    group, filterset, page = run_list_page(
        request, slug, selectors.platform_run_list_for_group, PlatformRunHistoryFilter
    )
    runs = list(page.object_list)
    digests = run_error_digests(run_ids=[run.pk for run in runs], errors=PlatformError)
    rows = [RunRow(run, duration_text(run.duration), digests.get(run.pk)) for run in runs]
    context = {"group": group, "filter_form": filterset.form, "page": page, "rows": rows}
    return _render(request, "run_list.html", context)


# A directory import's streams, one row each; its totals would add groups to users.
DIRECTORY_KINDS = (
    ("groups", _("Groups")),
    ("users", _("Users")),
    ("memberships", _("Memberships")),
)
# Column → the stream keys that fill it (memberships are "added", groups go "missing").
KIND_COLUMNS = (
    ("fetched",),
    ("created", "added"),
    ("updated", "role_changed"),
    ("unchanged",),
    ("removed", "missing"),
)
NOT_COUNTED = {("memberships", "fetched"), ("users", "removed")}


@dataclass(frozen=True)
class KindCounts:
    key: str
    label: str
    values: list[int | None]  # one per KIND_COLUMNS entry; None: not counted for this kind
    other: list[tuple[str, Any]]  # the stream's remaining counts, as recorded


def kind_counts(run: PlatformRun) -> list[KindCounts]:
    """A directory import's counts per kind (groups, users, memberships); [] for other runs."""
    if run.kind != PlatformRun.Kind.DIRECTORY:
        return []
    rows = []
    for key, label in DIRECTORY_KINDS:
        counts = run.details.get(key)
        counts = counts if isinstance(counts, dict) else {}
        used = {name for column in KIND_COLUMNS for name in column if name in counts}
        other = [(name, value) for name, value in counts.items() if name not in used]
        values = [_column_value(key, column, counts) for column in KIND_COLUMNS]
        rows.append(KindCounts(key, label, values, other))
    return rows


def _column_value(kind: str, column: tuple[str, ...], counts: dict) -> int | None:
    """A count of one kind: None when the kind was not read (yet) or has no such count
    (memberships are not fetched, users are deactivated rather than removed); a count the
    import never incremented is 0 (tallies record only what happened)."""
    if not counts or (kind, column[0]) in NOT_COUNTED:
        return None
    return sum(counts.get(name, 0) for name in column if isinstance(counts.get(name, 0), int))


def _run_live_context(request: HttpRequest, slug: str, run_id: int) -> dict[str, Any]:
    """The run page's live part: status, times, counts, plan (dry run) and errors."""
    context = run_page_context(
        request, slug, run_id, selectors.platform_run_get_for_group, lambda run: run.errors.all()
    )
    run = context["run"]
    streams = {
        name: counts
        for name, counts in run.details.items()
        # not the throttle (its own line), nor a stopped push's counts so far (kept for its end)
        if isinstance(counts, dict) and name not in ("throttle", "push_so_far")
    }
    return {
        **context,
        "streams": streams,
        "kind_counts": kind_counts(run),
        "throttle": run.details.get("throttle", {}),
        "plan": run.plan[:PLAN_PAGE_SIZE],
        "plan_total": run.details.get("plan_total", len(run.plan)),
    }


# A run: counts per kind or stream, throttling, errors and (dry run) what would be sent.
run_detail, run_progress, run_close = run_views(
    _run_live_context,
    selectors.platform_run_get_for_group,
    page_template="platforms/run_detail.html",
    live_template="platforms/_run_live.html",
    run_url="platforms:run",
)


@login_required
@require_GET
def course_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The platform's courses: search, match filter, paging; each with its matched synced
    course and the platform-side figures of the last report."""
    group = group_get_administered(user=request.user, slug=slug)
    connection = _saved_connection(group)
    query = request.GET.get("q", "").strip()[:200]
    match = request.GET.get("match", "")
    courses = selectors.platform_course_list(connection=connection, query=query, match=match)
    page = Paginator(courses, COURSES_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "group": group,
        "connection": connection,
        "page": page,
        "query": query,
        "match": match if match in PlatformCourse.Match.values else "",
        "matches": PlatformCourse.Match.choices,
        "counts": selectors.platform_course_counts(connection=connection),
    }
    return _render(request, "course_list.html", context)
