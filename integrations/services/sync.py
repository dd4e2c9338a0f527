"""Requesting and executing Udemy syncs: one run at a time per integration and kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from functools import partial
from typing import Any

from django.conf import settings

from integrations.connectors.providers import provider_for, statistics_sources
from integrations.core import lease
from integrations.core.execute import (
    RUN_EXECUTING,
    Reschedule,
    RunExecutor,
    owner_secrets,
    run_enqueue,
)
from integrations.core.logs import run_log_context
from integrations.core.reaper import runs_reap
from integrations.core.run_requests import other_run_busy, run_request, runs_request_daily
from integrations.core.runs import run_note_wait, run_skip, wait_words
from integrations.core.transactions import relaxed_commits
from integrations.models import AuditEntry, Integration, SyncLease, SyncRange, SyncRun
from integrations.selectors.sync_times import own_time_integrations

from .content_sync import content_sync
from .stats_pending import pending_apply
from .stats_split import split_helper, split_is_on
from .stats_sync import stats_page_write, stats_sync

BUSY = SyncRun.BUSY
RUN_SYNC_TASK = "integrations.tasks.run_sync"  # the task's stable name (tasks/sync.py)


def sync_request(
    *,
    integration: Integration,
    kind: str,
    trigger: str,
    user=None,
    scheduled_for: date | None = None,
    slot: str = "",
) -> SyncRun:
    """Create a run and enqueue it. If one of the same kind is queued or running, the new run is
    recorded as *skipped* ("already running") and nothing is enqueued."""
    return run_request(
        owner=integration,
        kind=kind,
        trigger=trigger,
        user=user,
        audit=(AuditEntry, f"sync_{kind}"),
        busy=other_run_busy,
        busy_reason=_busy_reason,
        enqueue=_enqueue,
        scheduled_for=scheduled_for,
        scheduled_slot=slot,
    )


def _busy_reason(run: SyncRun) -> str:
    return f"Skipped: a {run.kind} sync of this integration is already running."


def _enqueue(run: SyncRun, countdown: float | None = None) -> None:
    run_enqueue(task_name=RUN_SYNC_TASK, run=run, countdown=countdown)


def sync_request_foreground(*, integration: Integration, kind: str) -> SyncRun:
    """A run for `manage.py sync_udemy`: created like any other, executed by the caller."""
    runs_reap(SyncRun, integration=integration, kind=kind)
    busy = SyncRun.objects.filter(integration=integration, kind=kind, status__in=BUSY).exists()
    run = SyncRun.objects.create(
        integration=integration, kind=kind, trigger=SyncRun.Trigger.COMMAND
    )
    if busy:
        run_skip(run=run, reason=_busy_reason(run))
    return run


def sync_request_scheduled(
    *, kind: str, today: date, slot: str = "", integration_id: int | None = None
) -> list[SyncRun]:
    """Beat entry point: one run per local day for every integration that accepts runs (Active,
    or in Error: a failing integration keeps trying, only DEACTIVATE stops it); a unique guard
    keeps it to one per day and schedule `slot` (statistics run twice a day: "" and
    "evening"). The shared entry leaves out integrations with a time of their own for the slot
    (`services.sync_times`); their own entry passes `integration_id`."""
    owners = Integration.objects.filter(status__in=Integration.running_statuses())
    if integration_id is None:
        owners = owners.exclude(pk__in=own_time_integrations(kind, slot))
    else:
        owners = owners.filter(pk=integration_id)
    return runs_request_daily(
        owners,
        lambda _integration: (kind,),
        lambda integration, kind: sync_request(
            integration=integration,
            kind=kind,
            trigger=SyncRun.Trigger.SCHEDULE,
            scheduled_for=today,
            slot=slot,
        ),
        log_already=f"daily %s sync {slot!r} of integration %s already requested",
    )


class SyncExecutor(RunExecutor):
    """A Udemy content or statistics sync through the connector core (`core.execute`)."""

    run_model = SyncRun
    timeout_message = "The sync hit its time limit."
    select_related = ("integration__group", "integration__owner")
    connector_log_field = "provider"
    renew_seconds = 10.0  # pages come every few milliseconds; the lease lasts 10 minutes

    def prepare(self, run: SyncRun) -> None:
        self.provider = provider_for(run.integration.provider)
        # A sync resumes from its checkpoint: it can yield the worker between two pages.
        self.time_slice = settings.RUN_TIME_SLICE or None

    def busy_reason(self, run: SyncRun) -> str:
        return _busy_reason(run)

    def before_work(self, run: SyncRun) -> None:
        if run.kind == SyncRun.Kind.STATS and lease.is_held(
            SyncLease, integration=run.integration, kind=SyncRun.Kind.CONTENT
        ):
            raise Reschedule(run.pk, 60, "waiting for the content sync to finish")

    def work(self, run: SyncRun, renew: Callable[[], None]) -> None:
        integration, provider = run.integration, self.provider
        # Page by page commits: a database crash may lose the last ones, never half of one.
        with relaxed_commits(), provider.make_client(integration) as client:
            client.on_wait = partial(_note_wait, run, client.vendor)
            if run.kind == SyncRun.Kind.CONTENT:
                streams = provider.content_streams(integration, client)
                content_sync(run=run, streams=streams, on_page=renew)
                run.refresh_from_db()
                pending_apply(run=run)
            else:
                if not split_is_on(run):  # once, not at every look at a split run's helpers
                    pending_apply(run=run)
                with _stats_pages(integration, renew) as pages:
                    stream = provider.stats_stream(client, pages=pages)
                    stats_sync(run=run, stream=stream, on_page=renew)
                run.refresh_from_db()


def _note_wait(run: SyncRun, vendor: str, why: str, seconds: float, reason: str) -> None:
    """The client waits (a retry, a 429): the run page says so while it lasts."""
    if seconds >= 1:
        run_note_wait(run=run, message=wait_words(vendor, why, seconds, reason), seconds=seconds)


@contextmanager
def _stats_pages(integration: Integration, renew: Callable[[], None]) -> Iterator[Any]:
    """The pages of a statistics source other than the provider's API that claims this
    integration (`connectors.providers.statistics_sources`), else None (the provider's own
    report)."""
    with ExitStack() as stack:
        for source in statistics_sources():
            # Waiting on the source's export must not yield the worker: it would start again.
            keep_alive = partial(renew, may_yield=False)
            pages = stack.enter_context(source.stats_pages(integration, keep_alive))
            if pages is not None:
                yield pages
                return
        yield None


def sync_range_execute(*, run_id: int, on_page: Callable[[], None] = lambda: None) -> str:
    """A helper of a split statistics report (`stats_split`): work its free page ranges
    (`on_page` after each page committed). The helper that finds them all done closes the run
    (`_close_when_ranges_done`)."""
    outcome = split_helper(
        run_id=run_id, make_stream=_api_stats_stream, write_for=stats_page_write, on_page=on_page
    )
    if outcome == "done":
        _close_when_ranges_done(run_id)
    return outcome


def _close_when_ranges_done(run_id: int) -> None:
    """Every range of the run is done: execute the run here, as its own task would (it finds no
    range left, settles the report's scale and closes the run), rather than wait for that task,
    whose message may be lost with a killed worker. The run's lease makes one execution the
    closer: when its own task is executing, that task closes it."""
    running = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING)
    if not running.exists() or SyncRange.objects.filter(run_id=run_id, done=False).exists():
        return
    try:
        sync_execute(run_id=run_id)
    except Reschedule as exc:
        if exc.reason != RUN_EXECUTING:  # e.g. its time slice: the run's task goes on later
            _enqueue(SyncRun.objects.get(pk=run_id), countdown=exc.countdown)


@contextmanager
def _api_stats_stream(run: SyncRun) -> Iterator[Any]:
    """The provider's own report (only that one is split), with the run's log fields and none of
    its secrets in the log lines."""
    integration = run.integration
    provider = provider_for(integration.provider)
    with (
        run_log_context(SyncExecutor().log_fields(run), secrets=owner_secrets(integration)),
        provider.make_client(integration) as client,
    ):
        yield provider.stats_stream(client)


def sync_execute(*, run_id: int, progress: Callable[[SyncRun], None] | None = None) -> SyncRun:
    """Run (or resume) a sync. Never raises for upstream problems: they end up on the run."""
    return SyncExecutor(progress=progress).execute(run_id=run_id)
