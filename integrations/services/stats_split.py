"""One statistics report across several workers: its pages in ranges, claimed by whoever is free.

A large organization's user-course-activity report runs to thousands of pages; one worker
fetching K pages at once is bounded by its own CPU. With `STATS_SPLIT_PAGES` set, a report of
more pages than that is split once its first page (and `count`) is committed:

- pages 2..N become `SyncRange` rows of `STATS_SPLIT_PAGES` pages each (the last one reads to the
  end of the list, so a report that grew is read in full), and a Celery group of
  `STATS_SPLIT_WORKERS` helper tasks (`run_sync_range`) is sent with the run's id;
- the run's own task and the helpers claim free ranges one after another (a claim is a lease:
  renewed with each page, taken over when it expired or its process died) and commit each page
  like an unsplit run: the page's attempts, its ledger row (`SyncPage`), the range's next page
  and the run's counters (`F()` increments) in one transaction, so a redelivered or taken-over
  range fetches only the pages it lacks;
- every request draws on the organization's shared budget (`core.budget`), whatever worker sends
  it; a helper that meets a long `Retry-After` gives its range back and comes back later;
- the run's own task, once no range is free, is rescheduled while helpers hold ranges, and
  closes the run when all are done: it decides the report's ratio scale from the evidence of all
  ranges (pages were applied on the scale known when the report was split; a rare change of
  scale reads them again) and the run ends as any other. A range whose helpers failed
  `MAX_HELPER_FAILURES` times is left to the run's own task, whose failure closes the run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import closing, nullcontext
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.core import lease
from integrations.core.errors import RetryLater
from integrations.core.execute import RUN_MESSAGE_OPTIONS, Reschedule, task_named
from integrations.core.transactions import relaxed_commits
from integrations.models import SyncRange, SyncRun
from integrations.providers.base import Stream

from .paging import ledger_write, map_page
from .pipeline import fetch_scope
from .sync_errors import record_bad_items

logger = logging.getLogger(__name__)
KEY = "split"  # run.checkpoint["split"]: {"ranges": n, "scale": "...", "seen": progress_done}
RUN_RANGE_TASK = "integrations.tasks.run_sync_range"
MAX_HELPER_FAILURES = 3
WAIT_FOR_HELPERS = 15  # seconds between two looks of the run's own task at the helpers' ranges
PAGE_SIZE = 100  # Udemy's page size for the report (`UdemyClient.PAGE_SIZE`)

# write(rows, scale=...) -> counter increments of the page (inside its transaction).
PageWrite = Callable[..., dict[str, int]]


class ClaimLost(Exception):
    """The range was taken over (this worker stalled past its claim) or its run was closed: the
    page is rolled back and the worker lets the range go."""


def split_wanted(stream: Stream) -> bool:
    return bool(settings.STATS_SPLIT_PAGES) and stream.page_range is not None


def split_plan(*, count: int | None, every: int, page_size: int = PAGE_SIZE) -> list[tuple]:
    """The ranges of pages 2..N (N from `count`), `every` pages each, the last one open-ended;
    [] when the report is no longer than `every` pages after its first."""
    if not count or every <= 0:
        return []
    last = math.ceil(count / page_size)
    if last - 1 <= every:
        return []
    ranges: list[tuple] = [
        (first, min(first + every - 1, last)) for first in range(2, last + 1, every)
    ]
    ranges[-1] = (ranges[-1][0], None)
    return ranges


def split_start(*, run: SyncRun, stream: Stream, ranges: list[tuple], scale: str) -> None:
    """Record the ranges (applied on `scale`) and send the helpers once they are committed."""
    with transaction.atomic():
        SyncRange.objects.bulk_create(
            [
                SyncRange(
                    run=run, kind=stream.name, first=first, last=last, next_page=first, scale=scale
                )
                for first, last in ranges
            ]
        )
        run.checkpoint[KEY] = {"ranges": len(ranges), "scale": scale}
        run.stream_progress[stream.name]["split"] = len(ranges)
        SyncRun.objects.filter(pk=run.pk).update(
            checkpoint=run.checkpoint, stream_progress=run.stream_progress
        )
        helpers = min(len(ranges), max(0, settings.STATS_SPLIT_WORKERS))
        if helpers:
            transaction.on_commit(lambda: _send_helpers(run.pk, helpers))
    logger.info("run %s: report split into %s ranges, %s helper tasks", run.pk, len(ranges),
                helpers)  # fmt: skip


def _send_helpers(run_id: int, count: int) -> None:
    from celery import group

    task = task_named(RUN_RANGE_TASK)
    group(task.si(run_id).set(**RUN_MESSAGE_OPTIONS) for _ in range(count)).apply_async()


def ranges_work(
    *,
    run: SyncRun,
    stream: Stream,
    write: PageWrite,
    holder: str,
    on_page: Callable[[], None],
    helper: bool,
    deadline: float | None = None,
) -> bool:
    """Claim free ranges one after another and commit their pages, until none is free (True)
    or `deadline` (time.monotonic) passed (False). A helper records its failures on the range,
    gives it back and leaves it for others; the run's own task lets them raise (they close the
    run)."""
    failed: set[int] = set()  # ranges this helper failed on: not claimed again by it
    while claimed := _claim(run=run, stream=stream.name, holder=holder, helper=helper,
                            skip=failed):  # fmt: skip
        try:
            finished = _work_range(claimed, run=run, stream=stream, write=write, holder=holder,
                                   on_page=on_page, deadline=deadline)  # fmt: skip
        except RetryLater:
            raise  # the range is given back; the task comes back after the pause
        except ClaimLost:
            # Another worker has it now (this one stalled), or the run was closed (no range of
            # it is claimed any more): go on with the next free one, if any.
            logger.warning("run %s: %s: taken over, or the run was closed", run.pk, claimed)
            finished = True
        except Exception as exc:
            if not helper:
                raise
            _record_failure(run, claimed, exc)
            failed.add(claimed.pk)
            finished = True
        finally:
            lease.release(SyncRange, holder=holder, run=run, kind=stream.name, first=claimed.first)
        if not finished:
            return False
    return True


def _record_failure(run: SyncRun, claimed: SyncRange, exc: Exception) -> None:
    """A helper's failure on a range: counted on it (past `MAX_HELPER_FAILURES` only the run's
    own task takes it, and its failure closes the run)."""
    message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
    logger.warning("run %s: %s: helper failed: %s", run.pk, claimed, message)
    SyncRange.objects.filter(pk=claimed.pk).update(
        failures=F("failures") + 1, error=str(message)[:1000]
    )


def _claim(
    *, run: SyncRun, stream: str, holder: str, helper: bool, skip: set[int]
) -> SyncRange | None:
    """The first range no live worker holds (a helper skips those that failed too often, and
    those it failed on itself)."""
    candidates = SyncRange.objects.filter(
        run=run, kind=stream, done=False, run__status=SyncRun.Status.RUNNING
    ).exclude(pk__in=skip)
    if helper:
        candidates = candidates.filter(failures__lt=MAX_HELPER_FAILURES)
    for first in candidates.values_list("first", flat=True):
        if lease.acquire(SyncRange, holder=holder, run=run, kind=stream, first=first):
            claimed = SyncRange.objects.filter(run=run, kind=stream, first=first).first()
            if claimed is not None and not claimed.done:
                return claimed
            lease.release(SyncRange, holder=holder, run=run, kind=stream, first=first)
    return None


def _work_range(
    claimed: SyncRange,
    *,
    run: SyncRun,
    stream: Stream,
    write: PageWrite,
    holder: str,
    on_page: Callable[[], None],
    deadline: float | None,
) -> bool:
    """Commit the range's pages from its next one; True when it is done, False when `deadline`
    passed first (what is committed stays, the rest is left to the next claim)."""
    share = stream.budget() if stream.budget else None
    logger.info("run %s: %s claimed from page %s", run.pk, claimed, claimed.next_page)
    upstream = stream.page_range(claimed.next_page, claimed.last) if _left(claimed) else iter(())
    with share or nullcontext(), fetch_scope(), closing(upstream) as pages:
        for page in pages:
            _commit_page(claimed, page, run=run, stream=stream, write=write, holder=holder)
            on_page()
            if share:
                share.page_done()
            if not _left(claimed):
                break
            if deadline is not None and time.monotonic() > deadline:
                return False
    if _left(claimed) and claimed.last is not None:
        # The list ended before the range did: it shrank while it was read.
        claimed.unstable = f"the report ended at page {claimed.next_page - 1}"
    SyncRange.objects.filter(pk=claimed.pk).update(done=True, unstable=claimed.unstable)
    return True


def _commit_page(
    claimed: SyncRange, page: Any, *, run: SyncRun, stream: Stream, write: PageWrite, holder: str
) -> None:
    """One page of the range in one transaction: its rows, its ledger row, the range's progress
    and the run's counters (atomic increments: several workers add to them)."""
    rows, bad, seen = map_page(stream=stream, page=page)
    evidence = stream.report.observe(claimed.evidence, rows) if stream.report else {}
    count = (run.stream_progress.get(stream.name) or {}).get("total")
    unstable = claimed.unstable
    if page.count is not None and count is not None and page.count != count:
        unstable = f"{count} → {page.count}"
    with transaction.atomic():
        # Still this worker's claim (no join in the UPDATE: PostgreSQL re-checks only the row's
        # own columns after a wait), and the run still running (closed by hand or by the
        # reaper: its workers stop at their next page).
        kept = SyncRange.objects.filter(pk=claimed.pk, holder=holder).update(
            next_page=page.number + 1,
            evidence=evidence,
            items=F("items") + len(page.results),
            unstable=unstable,
            expires_at=timezone.now() + lease.LEASE_TTL,
        )
        if not kept or not SyncRun.objects.filter(pk=run.pk, status=run.Status.RUNNING).exists():
            raise ClaimLost(str(claimed))
        counts = write(rows, scale=claimed.scale)
        ledger_write(run=run, stream=stream.name, number=page.number, seen=seen)
        record_bad_items(run=run, bad=bad, fetched=len(page.results),
                         progress_done=len(page.results), **counts)  # fmt: skip
    claimed.evidence, claimed.unstable = evidence, unstable
    claimed.next_page = page.number + 1


def _left(claimed: SyncRange) -> bool:
    """Pages of the range remain to be read."""
    return claimed.last is None or claimed.next_page <= claimed.last


def split_wait_or_go_on(*, run: SyncRun, stream: Stream) -> None:
    """The run's own task found no free range: reschedule it while helpers hold ranges. The
    stream's progress is brought up to date from the run's counters (the helpers add to them).
    While they move, the run is working, not waiting (no wait limit applies); a split that has
    not moved since the last look waits like any run (`RUN_MAX_WAIT`, the retry budget)."""
    entry = run.stream_progress[stream.name]
    run.progress_done = SyncRun.objects.values_list("progress_done", flat=True).get(pk=run.pk)
    moved = run.progress_done != run.checkpoint[KEY].get("seen")
    run.checkpoint[KEY]["seen"] = entry["done"] = run.progress_done
    ranges = SyncRange.objects.filter(run=run, kind=stream.name)
    if reason := ranges.exclude(unstable="").values_list("unstable", flat=True).first():
        entry["unstable"] = reason
    SyncRun.objects.filter(pk=run.pk).update(
        stream_progress=run.stream_progress, checkpoint=run.checkpoint
    )
    if held := ranges.filter(done=False).count():
        reason = f"waiting for {held} page ranges on other workers"
        raise Reschedule(run.pk, WAIT_FOR_HELPERS, reason, working=moved)


def split_evidence(*, run: SyncRun, stream: str) -> dict[str, int]:
    """The completion-ratio evidence of all the report's ranges, added up."""
    total: dict[str, int] = {}
    for evidence in SyncRange.objects.filter(run=run, kind=stream).values_list(
        "evidence", flat=True
    ):
        for key, value in (evidence or {}).items():
            total[key] = total.get(key, 0) + int(value)
    return total


def split_stale(*, run: SyncRun, stream: Stream, final: str) -> list[tuple[int, int | None]]:
    """The ranges applied on a scale other than `final`. A range applied while nothing had
    decided the scale yet ("") is stale unless its own rows are only zeros (they read the
    same on every scale)."""
    stale = []
    for r in SyncRange.objects.filter(run=run, kind=stream.name).exclude(scale=final):
        if r.scale == "" and stream.report.decide(r.evidence) == "":
            continue
        stale.append((r.first, r.last))
    return stale


def split_rescaled(*, run: SyncRun, stream: str, first: int, final: str) -> None:
    """The range starting at `first` is applied again on `final`: a resumed run skips it."""
    SyncRange.objects.filter(run=run, kind=stream, first=first).update(scale=final)


def split_helper(
    *,
    run_id: int,
    make_stream: Callable[[SyncRun], Any],
    write_for: Callable[[SyncRun, Stream], PageWrite],
    on_page: Callable[[], None] = lambda: None,
) -> str:
    """A helper task's work: claim free ranges of the run's report until none is left or its
    time slice is used. Returns "done", "more" (send the helper again) or "idle". `on_page` is
    called after each page committed (the tests stop a helper there)."""
    run = SyncRun.objects.select_related("integration__group").get(pk=run_id)
    if run.status != SyncRun.Status.RUNNING or KEY not in run.checkpoint:
        return "idle"
    holder = lease.execution_holder(run.pk)
    slice_seconds = settings.RUN_TIME_SLICE or None
    deadline = time.monotonic() + slice_seconds if slice_seconds else None
    with relaxed_commits(), make_stream(run) as stream:
        finished = ranges_work(run=run, stream=stream, write=write_for(run, stream), holder=holder,
                               on_page=on_page, helper=True, deadline=deadline)  # fmt: skip
    return "done" if finished else "more"


def split_is_on(run: SyncRun) -> bool:
    return KEY in run.checkpoint
