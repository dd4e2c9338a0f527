"""Promise (split statistics runs): a run whose ranges are all done is closed — by whoever
finished the last range (one closer: the run's lease), with the status the run's counters give,
and, if that closer was lost too, by the reaper as succeeded or partial, never as failed
("worker lost"): its work was done."""

from __future__ import annotations

import pytest

from catalog.models import Attempt
from integrations.core import lease
from integrations.core.reaper import runs_reap
from integrations.models import SyncLease, SyncRange, SyncRun
from integrations.services.sync import sync_range_execute
from tests.integrations.services.test_stats_split import _synced, left_to_helpers  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_helper_that_finishes_the_last_range_closes_the_run(left_to_helpers):  # noqa: F811
    """The run's own task stopped after the split (its message lost with its worker): the
    helper works every range, then closes the run as that task would have."""
    sandbox, integration, run = left_to_helpers
    assert sync_range_execute(run_id=run.pk) == "done"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, (run.status, run.error_summary)
    assert not SyncRange.objects.filter(run=run, done=False).exists()
    assert run.fetched == len(sandbox.data.activity)
    assert run.ratio_scale  # the report's scale was settled
    assert run.streams[0].complete
    assert Attempt.objects.filter(course__integration=integration).count() == run.created > 0
    assert not run.errors.filter(category="worker_lost").exists()


@pytest.mark.parametrize("failed", [0, 2])
def test_the_reaper_closes_a_run_whose_ranges_are_all_done_per_its_counts(
    left_to_helpers,  # noqa: F811
    failed,
):
    """Every range done and the closer lost (the helper died before closing, the run's own task
    with its worker): the reaper closes the run succeeded (or partial when items failed)."""
    _, integration, run = left_to_helpers
    # The run's own task is executing (it holds the run's lease): the helper that finishes the
    # last range leaves the closing to it...
    own_task = {
        "holder": lease.execution_holder(run.pk),
        "integration": integration,
        "kind": run.kind,
    }
    assert lease.acquire(SyncLease, **own_task)
    assert sync_range_execute(run_id=run.pk) == "done"
    lease.release(SyncLease, **own_task)  # ...and that task is lost with its worker
    SyncRun.objects.filter(pk=run.pk).update(waiting_until=None, failed=failed)
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.RUNNING
    assert [r.pk for r in runs_reap(SyncRun, integration=integration)] == [run.pk]
    run.refresh_from_db()
    expected = SyncRun.Status.PARTIAL if failed else SyncRun.Status.SUCCEEDED
    assert run.status == expected
    assert not run.errors.filter(category="worker_lost").exists()
    assert run.finished_at is not None
    integration.refresh_from_db()
    assert integration.last_stats_sync is not None
