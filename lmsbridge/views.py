"""Site-level views: home page and the health endpoint."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from catalog.selectors import group_list_administered
from integrations.selectors.group_overview import group_rows_with_status


@login_required
def home(request: HttpRequest) -> HttpResponse:
    groups = list(group_list_administered(user=request.user).only("name", "slug"))
    if len(groups) == 1:
        return redirect("integrations:settings", slug=groups[0].slug)
    if not groups:
        return redirect("catalog:learner_catalog")
    return render(request, "home.html", {"rows": group_rows_with_status(groups=groups)})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    from lmsbridge.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 otherwise (no detail of the failure)."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception:
            import logging

            logging.getLogger(__name__).exception("health check %s failed", name)
            checks[name] = "down"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503
    )
