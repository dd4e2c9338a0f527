"""Executing a PlatformRun through the connector core (`core.execute`): lease, client, engine,
outcome. Never raises for platform problems.

A long rate limit (`PlatformRetryLater`) raises `Reschedule`: the Celery task retries later and
the run resumes (a directory import is idempotent; a push resumes from its ledger). A report
export run, which resumes from its checkpoint, and a push, which resumes from its ledger, are
also time-sliced like a Udemy sync (`RUN_TIME_SLICE`): a large report goes back to the queue
between two batches, a long push between two items, instead of keeping a worker from the other
groups' runs; a pending export reschedules its task. A push that stops keeps what it counted
(`details["push_so_far"]`), so the run's counts are those of the whole run.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import translation

from integrations.connectors.platforms import platform_for
from integrations.core.errors import RetryLater
from integrations.core.execute import Reschedule, RunExecutor, RunFailed
from integrations.core.kinds import Capability
from integrations.core.runs import run_add_counts, run_note_wait, run_record_error, wait_words
from integrations.models import PlatformRun
from integrations.platforms.directory import directory_import
from integrations.platforms.runs import run_record_client

PLAN_LIMIT = 1000  # dry-run entries stored on the run (the total is in details)
RENEW_EVERY = 25  # items or pages between lease renewals
WAIT_FOR_RUNNING = 120.0  # seconds before a sync-triggered push tries the lease again


class PlatformExecutor(RunExecutor):
    """A directory import, a course list import, a report export or a catalog/completion push
    of one connection, through the connector of its kind."""

    run_model = PlatformRun
    renew_every = RENEW_EVERY
    timeout_message = "The run hit its time limit: the next run goes on from there."
    select_related = ("connection__group",)
    connector_log_field = "platform"

    def prepare(self, run: PlatformRun) -> None:
        self.client = None
        # Only a run that resumes mid-way may yield its worker (a directory import would
        # start over): a report from its checkpoint, a push from its ledger.
        resumable = run.kind == PlatformRun.Kind.REPORTS or (
            run.kind == PlatformRun.Kind.PUSH and not run.dry_run
        )
        self.time_slice = (settings.RUN_TIME_SLICE or None) if resumable else None
        self.resumed_since = run.started_at  # None: this execution starts the run

    def last_run_field(self, run: PlatformRun) -> str | None:
        # A dry run reads the database only: the connection keeps its dates.
        return None if run.dry_run else super().last_run_field(run)

    def uses_lease(self, run: PlatformRun) -> bool:
        return not run.dry_run  # reads the database only: no lease, no request

    def when_busy(self, run: PlatformRun) -> None:
        if run.trigger == PlatformRun.Trigger.SYNC:  # newer data than the running push saw
            raise Reschedule(run.pk, WAIT_FOR_RUNNING, "waiting for the running push")
        super().when_busy(run)

    def busy_reason(self, run: PlatformRun) -> str:
        with translation.override("en"):  # stored with the run: the kind's label in English
            return f"Skipped: a {run.get_kind_display().lower()} is already running."

    def work(self, run: PlatformRun, renew: Callable[[], None]) -> None:
        connection = run.connection
        connector = platform_for(connection.kind)
        if run.kind == PlatformRun.Kind.PUSH:
            if not connector.supports(Capability.PUSH):
                problem = f"{connection.get_kind_display()} connections can't receive a push."
            else:
                problem = connector.push_problem(connection)
            if problem:
                raise RunFailed("config", problem)
        if run.kind not in connector.run_kinds:
            with translation.override("en"):  # stored as the run's error (a dry run: in a request)
                label = run.get_kind_display().lower()
            raise RunFailed("config", f"{connection.get_kind_display()} has no {label}.")
        self.client = None if run.dry_run else connector.make_client(connection)
        if self.client is not None:  # its retries and waits show on the run page as they happen
            vendor = getattr(self.client, "vendor", "") or connection.get_kind_display()
            self.client.on_wait = partial(_note_wait, run, vendor)
        with self.client or nullcontext():
            if run.kind == PlatformRun.Kind.DIRECTORY:
                source = connector.directory_source(connection, self.client)
                directory_import(run=run, connection=connection, source=source, on_page=renew)
            elif run.kind in (PlatformRun.Kind.COURSES, PlatformRun.Kind.REPORTS):
                engine = (
                    connector.import_courses if run.kind == "courses" else connector.export_reports
                )
                engine(run=run, connection=connection, client=self.client, on_page=renew)
            else:
                counts: dict[str, dict[str, int]] = {}
                try:
                    result = connector.push_run(
                        run=run, connection=connection, client=self.client, dry_run=run.dry_run,
                        on_item=renew, counts=counts, resumed_since=self.resumed_since,
                    )  # fmt: skip
                except (Reschedule, RetryLater):  # goes on later: keep what this part counted
                    _keep_push_counts(run, counts)
                    raise
                _record_push(run, result)

    def after_work(self, run: PlatformRun) -> None:
        if self.client is not None:
            run_record_client(run=run, client=self.client)


def platform_run_execute(*, run_id: int) -> PlatformRun:
    """Run (or resume) a platform run; upstream problems end up on the run, not raised."""
    return PlatformExecutor().execute(run_id=run_id)


def _note_wait(run: PlatformRun, vendor: str, why: str, seconds: float, reason: str) -> None:
    """The client waits (a retry, a 429, a throttle, an export not ready yet): the run page says
    so while it lasts (`run_note_wait`, as a Udemy sync does)."""
    if seconds >= 1:
        run_note_wait(run=run, message=wait_words(vendor, why, seconds, reason), seconds=seconds)


# Counts a stopped push keeps; the others ("unchanged", "pending"...) are what the last part
# of the run saw of the whole catalog.
NOT_CARRIED = frozenset({"unchanged", "pending", "link_waiting"})


def _keep_push_counts(run: PlatformRun, counts: dict[str, dict[str, int]]) -> None:
    """A push stops half-way: add what it did to what earlier parts of the run did."""
    so_far = _with_earlier(run, counts)
    PlatformRun.objects.filter(pk=run.pk).update(details={**run.details, "push_so_far": so_far})
    run.details["push_so_far"] = so_far


def _with_earlier(run: PlatformRun, counts: dict[str, dict[str, int]]) -> dict[str, dict]:
    """`counts` plus the actions of the earlier parts of this run (`details["push_so_far"]`)."""
    earlier = run.details.get("push_so_far") or {}
    merged = {}
    for stream in {*earlier, *counts}:
        now, before = dict(counts.get(stream, {})), earlier.get(stream, {})
        for name, value in before.items():
            if name not in NOT_CARRIED:
                now[name] = now.get(name, 0) + value
        merged[stream] = now
    return merged


def _record_push(run: PlatformRun, result: dict[str, Any]) -> None:
    if run.details.get("push_so_far"):  # a push that went on from where it stopped
        whole = _with_earlier(run, {k: result[k] for k in ("courses", "completions")})
        result = {**result, **whole}
        run.details.pop("push_so_far")
    courses, completions, plan = result["courses"], result["completions"], result["plan"]
    run.details.update({"courses": courses, "completions": completions, "plan_total": len(plan)})
    run.plan = plan[:PLAN_LIMIT]
    update_fields = ["details", "plan"]
    if waiting := result.get("waiting"):
        # A guard that stopped a step (links beyond the confirmed enrollments) ends visibly:
        # the run is partial, says what waits, and the connection page asks the admin.
        run.error_summary = waiting[:2000]
        update_fields.append("error_summary")
        run_record_error(run=run, category="confirmation_needed", message=waiting)
    run.save(update_fields=update_fields)
    considered = sum(courses.get(k, 0) for k in ("unchanged", "planned"))
    considered += sum(completions.get(k, 0) for k in ("unchanged", "planned", "pending"))
    run_add_counts(
        run=run,
        fetched=considered,
        created=courses.get("created", 0) + completions.get("marked", 0),
        updated=courses.get("updated", 0),
        unchanged=courses["unchanged"] + completions["unchanged"],
        removed=courses.get("detached", 0),
        failed=courses.get("failed", 0) + completions.get("failed", 0) + bool(waiting),
        pending=completions["pending"] + courses.get("link_waiting", 0),
    )
