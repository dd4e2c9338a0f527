"""Promise (bounded state): statistics kept for courses not in the catalog yet do not pile up.
A kept row no report has named for `STATS_PENDING_MAX_AGE_DAYS` is dropped (its course never
came); an integration keeps at most `STATS_PENDING_MAX_ROWS` of them, the rows past it counted
in the run's warning; and they are read back a batch at a time, so applying them costs memory
for one batch whatever their number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt
from integrations.models import PendingStatistic, SyncRun
from integrations.services import stats_pending
from integrations.services.stats_pending import NOT_KEPT_WARNING
from tests.factories import group_admin
from tests.integrations.services.audience import register

pytestmark = pytest.mark.django_db

SANDBOX = {"courses": 40, "paths": 0, "learners": 12}


@pytest.fixture
def kept(make_udemy_sandbox, make_integration, run_sync):
    """An integration whose statistics ran before its first content sync: every matched row is
    kept for later."""
    sandbox = make_udemy_sandbox(**SANDBOX)
    integration = make_integration(sandbox)
    register(sandbox.data.learner_emails)
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED
    rows = PendingStatistic.objects.filter(integration=integration)
    assert rows.count() > 20
    return integration, rows


def _attempted(integration) -> set[tuple[str, str]]:
    return set(
        Attempt.objects.filter(course__integration=integration).values_list(
            "course__external_id", "learner__email"
        )
    )


def _started(rows) -> set[tuple[str, str]]:
    return {(p.external_course_id, p.email) for p in rows if p.payload.get("started", True)}


def test_kept_statistics_no_report_named_for_the_age_limit_are_dropped(kept, run_sync, settings):
    integration, rows = kept
    settings.STATS_PENDING_MAX_AGE_DAYS = 30
    old = list(rows.order_by("pk")[: rows.count() // 2])
    fresh = list(rows.exclude(pk__in=[p.pk for p in old]))
    rows.filter(pk__in=[p.pk for p in old]).update(last_seen=timezone.now() - timedelta(days=31))
    assert run_sync(integration, "content").status == SyncRun.Status.SUCCEEDED
    assert rows.count() == 0  # the fresh ones applied, the old ones dropped
    assert _attempted(integration) == _started(fresh)
    assert _started(old) and not _started(old) & _attempted(integration)


def test_a_row_a_later_report_names_again_counts_its_age_anew(kept, run_sync, settings):
    integration, rows = kept
    everything = list(rows.all())
    settings.STATS_PENDING_MAX_AGE_DAYS = 30
    rows.update(last_seen=timezone.now() - timedelta(days=20))
    assert run_sync(integration, "stats").pending == len(everything)  # named again: renewed
    assert rows.count() == len(everything)
    settings.STATS_PENDING_MAX_AGE_DAYS = 10  # twenty days old unless renewed
    run_sync(integration, "content")
    assert rows.count() == 0
    assert _attempted(integration) == _started(everything)


def test_the_cap_keeps_exactly_that_many_and_counts_the_rest(kept, run_sync, settings, client):
    integration, rows = kept
    total = rows.count()
    rows.delete()
    settings.STATS_PENDING_MAX_ROWS = 10
    run = run_sync(integration, "stats")
    assert rows.count() == 10
    assert run.pending == 10
    assert run.status == SyncRun.Status.SUCCEEDED
    (warning,) = [w for w in run.warnings if w["code"] == NOT_KEPT_WARNING]
    assert warning["count"] == total - 10
    assert f"{total - 10} statistics rows" in warning["message"]
    client.force_login(group_admin(integration.group))
    page = client.get(reverse("integrations:run", args=[integration.group.slug, run.pk]))
    shown = page.content.decode()
    assert f"{total - 10} statistics rows of courses not in the catalog yet" in shown
    # The same report again: the ten kept are renewed, the others are still not kept.
    before = dict(rows.values_list("pk", "last_seen"))
    again = run_sync(integration, "stats")
    assert rows.count() == 10 and set(before) == set(rows.values_list("pk", flat=True))
    assert all(seen > before[pk] for pk, seen in rows.values_list("pk", "last_seen"))
    assert again.pending == 10
    assert [w["count"] for w in again.warnings if w["code"] == NOT_KEPT_WARNING] == [total - 10]


def test_a_run_within_the_cap_has_no_warning(kept, run_sync, settings):
    integration, rows = kept
    settings.STATS_PENDING_MAX_ROWS = rows.count()
    run = run_sync(integration, "stats")
    assert run.pending == rows.count()
    assert not [w for w in run.warnings if w["code"] == NOT_KEPT_WARNING]


def test_kept_statistics_are_applied_a_batch_at_a_time(kept, run_sync, monkeypatch):
    integration, rows = kept
    everything = list(rows.all())
    monkeypatch.setattr(stats_pending, "PENDING_BATCH", 7)
    with CaptureQueriesContext(connection) as queries:
        assert run_sync(integration, "content").status == SyncRun.Status.SUCCEEDED
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and "integrations_pendingstatistic" in q["sql"].split(" WHERE ")[0]
        and '"payload"' in q["sql"]
    ]
    batches = -(-len(everything) // 7)
    assert len(reads) == batches + 1  # the last one finds none left
    assert all("LIMIT 7" in sql for sql in reads)
    assert rows.count() == 0
    assert _attempted(integration) == _started(everything)
