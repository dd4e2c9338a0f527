"""The run page and the history tell the truth: progress per stream (a stream not read yet is
listed, a failed run is red and stops where it stopped), the errors card and the archival
decision refresh with the progress, error categories read as words."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncRun
from integrations.templatetags.run_display import error_label
from tests.factories import SyncErrorFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

TWO_STREAMS = {
    "courses": {"label": "Courses", "done": 300, "total": 300, "complete": True},
    "learning_paths": {"label": "Learning paths", "done": 0, "total": None, "complete": False},
}


def progress_of(client, group, run, **params) -> str:
    url = reverse("integrations:run_progress", args=[group.slug, run.pk])
    return client.get(url, params).content.decode()


def bar(html: str) -> str:
    return re.search(r'<progress[^>]*data-testid="run-progress"[^>]*>', html).group(0)


def test_a_stream_not_read_yet_keeps_the_bar_below_100(admin_client, group, integration):
    run = SyncRunFactory(
        integration=integration, status=SyncRun.Status.RUNNING, started_at=timezone.now(),
        progress_done=300, progress_total=300, stream_progress=TWO_STREAMS,
    )  # fmt: skip
    html = progress_of(admin_client, group, run)
    # not "300 / 300, 100 %": the paths are still to come (weighed by items, their size unknown)
    assert 'value="99"' in bar(html)
    assert "Learning paths" in html and "not started" in html
    assert "300 / 300" in html


def test_a_failed_run_is_red_and_stops_where_it_stopped(admin_client, group, integration):
    streams = {"courses": {"label": "Courses", "done": 100, "total": 300, "complete": False}}
    run = SyncRunFactory(
        integration=integration, status=SyncRun.Status.FAILED, started_at=timezone.now(),
        finished_at=timezone.now(), progress_done=100, progress_total=300,
        stream_progress=streams, error_summary="Udemy answered 503",
    )  # fmt: skip
    html = progress_of(admin_client, group, run)
    assert 'data-state="failed"' in bar(html) and 'value="33"' in bar(html)
    assert "stopped" in html
    # without per-stream figures (older runs) a failed run is not a full bar either
    SyncRun.objects.filter(pk=run.pk).update(stream_progress={}, progress_total=None)
    assert 'value="0"' in bar(progress_of(admin_client, group, run))


def test_a_succeeded_run_is_green_and_full(admin_client, group, integration):
    run = SyncRunFactory(
        integration=integration, status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now(),
        stream_progress={"courses": {**TWO_STREAMS["courses"]}},
    )  # fmt: skip
    assert 'data-state="succeeded"' in bar(progress_of(admin_client, group, run))
    assert 'value="100"' in bar(progress_of(admin_client, group, run))


def test_the_errors_card_refreshes_with_the_progress(admin_client, group, integration):
    run = SyncRunFactory(
        integration=integration, status=SyncRun.Status.RUNNING, started_at=timezone.now()
    )
    first = progress_of(admin_client, group, run)
    assert "Errors (0)" in first and "No error so far." in first
    SyncErrorFactory(run=run, category="UdemyUnavailable", message="Udemy answered 503")
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(), error_summary="Udemy answered 503"
    )
    last = progress_of(admin_client, group, run)  # the poll that sees the end
    assert "Errors (1)" in last and "Udemy unavailable" in last and "Udemy answered 503" in last
    assert "hx-trigger" not in last  # and polling stops


def test_the_poll_keeps_the_errors_search(admin_client, group, integration):
    run = SyncRunFactory(integration=integration, status=SyncRun.Status.RUNNING)
    SyncErrorFactory(run=run, external_id="course-1", message="bad title")
    SyncErrorFactory(run=run, external_id="course-2", message="bad price")
    page = admin_client.get(
        reverse("integrations:run", args=[group.slug, run.pk]), {"q": "price"}
    ).content.decode()
    assert "?q=price" in page  # the hx-get repeats the search
    html = progress_of(admin_client, group, run, q="price")
    assert "course-2" in html and "course-1" not in html


def test_the_archival_panel_always_says_the_decision_and_why(admin_client, group, integration):
    running = SyncRunFactory(integration=integration, status=SyncRun.Status.RUNNING)
    assert "only a complete, error-free scan archives" in progress_of(admin_client, group, running)
    partial = SyncRunFactory(
        integration=integration, status=SyncRun.Status.PARTIAL, finished_at=timezone.now()
    )
    html = progress_of(admin_client, group, partial)
    assert "Decided at the end" not in html
    assert "Nothing archived: the run ended partial before its scan was complete" in html
    decided = SyncRunFactory(
        integration=integration, status=SyncRun.Status.PARTIAL, finished_at=timezone.now(),
        archival_decision="skipped", archival_reason="3 item(s) failed: the scan is not error-free",
    )  # fmt: skip
    assert "3 item(s) failed" in progress_of(admin_client, group, decided)


@pytest.mark.parametrize(
    ("category", "words"),
    [
        ("auth", "Credentials refused"),
        ("UdemyUnavailable", "Udemy unavailable"),
        ("UdemyBadResponse", "Udemy bad response"),
        ("UdemyAuthError", "Udemy refused the credentials"),
        ("PlatformBudgetSpent", "The platform weekly API budget used up"),
        ("invalid_item", "Bad item"),
        ("timeout", "Time limit reached"),
        ("some_new_code", "Some new code"),
        ("", "Error"),
    ],
)
def test_error_categories_read_as_words(category, words):
    assert error_label(category) == words


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries.captured_queries)


def test_history_has_an_errors_column_with_the_first_error(admin_client, group, integration):
    runs = [
        SyncRunFactory(integration=integration, status=SyncRun.Status.PARTIAL) for _ in range(5)
    ]
    for run in runs:
        SyncErrorFactory(run=run, category="invalid_item", message=f"first of {run.pk}")
        SyncErrorFactory(run=run, category="invalid_item", message="second")
    clean = SyncRunFactory(integration=integration, status=SyncRun.Status.SUCCEEDED)
    url = reverse("integrations:history", args=[group.slug])
    html = admin_client.get(url).content.decode()
    cells = re.findall(r'data-testid="run-errors-cell">(.*?)</td>', html, re.S)
    assert len(cells) == 6
    assert sum("Bad item: first of" in c for c in cells) == 5
    assert any("—" in c for c in cells)
    assert f"first of {runs[0].pk}" in html and clean.pk
    before = queries_of(admin_client, url)
    for run in SyncRunFactory.create_batch(10, integration=integration):
        SyncErrorFactory(run=run)
    assert queries_of(admin_client, url) == before  # two queries per page, not per row
