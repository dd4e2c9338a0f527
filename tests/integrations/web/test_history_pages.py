"""Sync history (filters, pagination, chart) and the run page (counts, errors, live progress)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncRun
from tests.factories import SyncErrorFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def history_url(group, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("integrations:history", args=[group.slug]) + (f"?{query}" if query else "")


def finished_run(integration, **kwargs) -> SyncRun:
    start = timezone.now() - timedelta(minutes=5)
    defaults = {
        "status": SyncRun.Status.SUCCEEDED,
        "started_at": start,
        "finished_at": start + timedelta(seconds=42),
        "fetched": 300,
        "created": 12,
        "updated": 3,
    }
    return SyncRunFactory(integration=integration, **{**defaults, **kwargs})


def test_history_lists_runs_with_who_duration_status_and_counts(
    admin_client, group, integration, admin_user
):
    run = finished_run(integration, triggered_by=admin_user)
    html = admin_client.get(history_url(group)).content.decode()
    assert reverse("integrations:run", args=[group.slug, run.pk]) in html
    for text in ("Content", "Manual", "alice", "42.0 s", "Succeeded", ">300<", ">12<"):
        assert text in html


def test_history_draws_a_server_side_svg_chart(admin_client, group, integration):
    for _ in range(3):
        finished_run(integration)
    html = admin_client.get(history_url(group)).content.decode()
    assert "<svg" in html and "Items per run" in html and "Duration per run" in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "kozea.github.io" not in html  # no CDN script


def test_history_filters_by_kind_status_and_trigger(admin_client, group, integration):
    content = finished_run(integration)
    stats = finished_run(integration, kind=SyncRun.Kind.STATS, status=SyncRun.Status.FAILED)
    scheduled = finished_run(integration, trigger=SyncRun.Trigger.SCHEDULE)

    def listed(**params) -> set[int]:
        page = admin_client.get(history_url(group, **params)).context["page"]
        return {run.pk for run in page.object_list}

    assert listed(kind="stats") == {stats.pk}
    assert listed(status="failed") == {stats.pk}
    assert listed(trigger="schedule") == {scheduled.pk}
    assert listed(kind="content", trigger="manual") == {content.pk}
    assert listed(kind="nonsense") == {content.pk, stats.pk, scheduled.pk}


def test_history_is_paginated(admin_client, group, integration):
    SyncRunFactory.create_batch(30, integration=integration)
    first = admin_client.get(history_url(group)).context["page"]
    second = admin_client.get(history_url(group, page=2)).context["page"]
    assert len(first.object_list) == 25 and len(second.object_list) == 5
    assert first.paginator.num_pages == 2


def test_history_of_a_group_without_runs(admin_client, group):
    html = admin_client.get(history_url(group)).content.decode()
    assert "No run matches." in html and "No run to chart yet." in html


# --------------------------------------------------------------------------- run page


def run_url(group, run, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("integrations:run", args=[group.slug, run.pk]) + (f"?{query}" if query else "")


def test_run_page_shows_counts_archival_decision_and_reason(admin_client, group, integration):
    run = finished_run(
        integration,
        archived=4,
        archival_decision="archived",
        archival_reason="4 courses missing from a complete scan",
    )
    html = admin_client.get(run_url(group, run)).content.decode()
    assert 'data-testid="run-counts"' in html
    assert "archived" in html and "4 courses missing from a complete scan" in html
    assert 'value="100"' in html  # a finished run is at 100 %


def test_run_page_lists_unmatched_learners_of_a_stats_run(admin_client, group, integration):
    run = finished_run(
        integration,
        kind=SyncRun.Kind.STATS,
        unmatched_learners=2,
        unmatched_emails=["ghost@example.com", "nobody@example.org"],
    )
    html = admin_client.get(run_url(group, run)).content.decode()
    assert "Unmatched learners (2)" in html
    assert "ghost@example.com" in html and "nobody@example.org" in html


def test_run_errors_are_searchable_over_external_id_and_message(admin_client, group, integration):
    run = finished_run(integration, failed=3)
    SyncErrorFactory(run=run, external_id="777", message="missing title")
    SyncErrorFactory(run=run, external_id="888", message="bad date 2025-13-40")
    SyncErrorFactory(run=run, external_id="999", message="duplicate id")

    def found(q: str) -> set[str]:
        errors = admin_client.get(run_url(group, run, q=q)).context["errors"]
        return {e.external_id for e in errors.object_list}

    assert found("") == {"777", "888", "999"}
    assert found("888") == {"888"}
    assert found("DATE") == {"888"}
    assert found("nothing-like-this") == set()
    assert "No error matches" in admin_client.get(run_url(group, run, q="zzz")).content.decode()


def test_run_errors_are_paginated(admin_client, group, integration):
    run = finished_run(integration)
    SyncErrorFactory.create_batch(60, run=run)
    errors = admin_client.get(run_url(group, run)).context["errors"]
    assert len(errors.object_list) == 50 and errors.paginator.num_pages == 2
    errors = admin_client.get(run_url(group, run, page=2)).context["errors"]
    assert len(errors.object_list) == 10


def test_running_run_polls_its_progress_with_htmx(admin_client, group, integration):
    run = SyncRunFactory(
        integration=integration,
        status=SyncRun.Status.RUNNING,
        started_at=timezone.now(),
        progress_done=150,
        progress_total=300,
    )
    html = admin_client.get(run_url(group, run)).content.decode()
    progress_url = reverse("integrations:run_progress", args=[group.slug, run.pk])
    assert f'hx-get="{progress_url}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert 'value="50"' in html and "150 / 300" in html

    partial = admin_client.get(progress_url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="run-live"')
    assert "<html" not in partial
    assert 'hx-trigger="every 1s"' in partial


def test_progress_partial_of_a_finished_run_stops_polling(admin_client, group, integration):
    run = SyncRunFactory(integration=integration, status=SyncRun.Status.RUNNING, progress_total=300)
    progress_url = reverse("integrations:run_progress", args=[group.slug, run.pk])
    assert "hx-trigger" in admin_client.get(progress_url).content.decode()
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.SUCCEEDED, progress_done=300, finished_at=timezone.now()
    )
    partial = admin_client.get(progress_url).content.decode()
    assert "hx-trigger" not in partial and "hx-get" not in partial
    assert "100 %" in partial and "Succeeded" in partial


def test_skipped_run_shows_why(admin_client, group, integration):
    run = SyncRunFactory(
        integration=integration,
        status=SyncRun.Status.SKIPPED,
        error_summary="Skipped: a content sync of this integration is already running.",
    )
    html = admin_client.get(run_url(group, run)).content.decode()
    assert "already running" in html and "hx-trigger" not in html
