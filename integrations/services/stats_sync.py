"""The daily statistics sync: Udemy user-course-activity rows into learners' attempts.

360Learning rules (360Learning "Statistics synchronization"):
- learners are matched by e-mail, case-insensitively; the same address is needed on both sides;
- time spent is "applied only to the first recorded attempt": the row's minutes go to the
  learner's attempt #1 on the course, even after a relaunch made a later attempt the current one;
- a course *started* on Udemy and not finished gets an *opened* attempt, closed by the first sync
  after completion; a learner only enrolled or assigned (no start date, progress nor minutes)
  gets no attempt;
- a launch from the platform closes an attempt at once with 0 %; the next sync updates its
  statistics (progress, dates, time) and keeps it closed; a completion Udemy reports from before
  the launch stays the earlier attempt's.
The completion ratio's scale is decided once per report (`stats_scale`). A row is matched
only to a learner who sees the integration's catalog (`stats_audience`). Rows of unknown
learners, and of learners outside this group, are counted and listed (the latter also apart,
as the run's "outside this group" warning, and nothing of them is stored); rows of courses not
yet in the catalog are kept as `PendingStatistic` and applied by a later run (`stats_pending`).
A page's learners and courses are looked up as it is mapped (`stats_lookup`). Re-running with
the same report writes nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import closing
from functools import partial

from django.conf import settings
from django.db import transaction

from catalog.models import Attempt
from integrations.core.lease import execution_holder
from integrations.core.records import MappingError
from integrations.core.runs import run_add_counts
from integrations.models import Integration, SyncRun
from integrations.providers.base import StatRow, Stream

from .attempts import as_row, attempt_pairs, attempts_apply
from .paging import map_page, run_stream, streams_declare
from .pipeline import WRITE_AHEAD, fetch_scope
from .planner import PlannerStatistics, refreshing
from .run_warnings import add_to_warning
from .stats_audience import Audience, audience_of, matched_only
from .stats_lookup import MatchedRows, course_ids, learner_ids, match_while_mapping
from .stats_pending import keep_pending, pending_not_kept
from .stats_scale import (
    scale_current,
    scale_decided,
    scale_page,
    scale_page_redone,
    scale_record,
    scale_rows,
    scale_start,
)
from .stats_split import (
    ranges_work,
    split_evidence,
    split_is_on,
    split_plan,
    split_rescaled,
    split_stale,
    split_start,
    split_wait_or_go_on,
    split_wanted,
)
from .sync_errors import corrected_rows_to_record

UNMATCHED_LIST_LIMIT = 1000


def stats_sync(
    *,
    run: SyncRun,
    stream: Stream,
    on_page: Callable[[], None] | None = None,
) -> None:
    """Drain the report page by page, then settle its ratio scale (see `stats_scale`). A report
    longer than `STATS_SPLIT_PAGES` pages is split across workers after its first page
    (`stats_split`): this execution works ranges too, and closes the run once all are done."""
    if stream.report is not None:
        scale_start(run=run)
    writer = stats_page_write(run, stream)
    mapper = match_while_mapping(run.integration, writer.keywords["audience"])
    on_page = refreshing(on_page, PlannerStatistics(Attempt), lambda: run.created)
    streams_declare(run=run, streams=[stream])
    if split_wanted(stream) and not split_is_on(run) and run.checkpoint.get(stream.name, 0) <= 1:
        if not run.checkpoint.get(stream.name):
            run_stream(run=run, stream=stream, writer=writer, on_page=on_page, until=1,
                       mapper=mapper)  # fmt: skip
        entry = run.stream_progress[stream.name]
        ranges = split_plan(count=entry.get("total"), every=settings.STATS_SPLIT_PAGES)
        if ranges:
            split_start(run=run, stream=stream, ranges=ranges, scale=scale_current(run))
    if split_is_on(run):
        ranges_work(run=run, stream=stream, write=writer,
                    holder=execution_holder(run.pk), on_page=on_page,
                    helper=False)  # fmt: skip
        split_wait_or_go_on(run=run, stream=stream)  # reschedules while helpers hold ranges
        _stream_complete(run=run, stream=stream)
    else:
        run_stream(run=run, stream=stream, writer=writer, on_page=on_page, mapper=mapper)
    if stream.report is not None:
        _settle_scale(run=run, stream=stream, on_page=on_page)


def stats_page_write(run: SyncRun, stream: Stream) -> Callable[..., dict]:
    """The writer of the report's pages: `write(rows)` for a page read for the first time (on
    the provisional scale), `write(rows, scale=...)` for a page of a split report's range."""
    return partial(
        _write_stats, run=run, integration=run.integration, stream=stream, last=_LastPages(),
        audience=audience_of(run.integration),
    )  # fmt: skip


def _stream_complete(*, run: SyncRun, stream: Stream) -> None:
    entry = run.stream_progress[stream.name]
    entry["complete"] = True
    entry["total"] = max(entry.get("total") or 0, entry.get("done", 0))
    SyncRun.objects.filter(pk=run.pk).update(stream_progress=run.stream_progress)


def _settle_scale(*, run: SyncRun, stream: Stream, on_page: Callable[[], None]) -> None:
    """Decide the report's scale from all its rows, record it, and apply again on it the pages
    that were applied on another one (read again: pages by number are independent). The ranges
    of a split report are marked as they are done: a run resumed meanwhile skips them."""
    split = split_is_on(run)
    extra = split_evidence(run=run, stream=stream.name) if split else None
    final, stale = scale_decided(run=run, report=stream.report, extra=extra)
    for first, last in stale:
        _reapply(run=run, stream=stream, first=first, last=last, scale=final, on_page=on_page)
    for first, last in split_stale(run=run, stream=stream, final=final) if split else ():
        _reapply(run=run, stream=stream, first=first, last=last, scale=final, on_page=on_page)
        split_rescaled(run=run, stream=stream.name, first=first, final=final)
    scale_record(run=run, scale=final)


def _reapply(
    *,
    run: SyncRun,
    stream: Stream,
    first: int,
    last: int | None,
    scale: str,
    on_page: Callable[[], None],
) -> None:
    """Read pages `first` to `last` (None: to the end) again and apply them on `scale`."""
    audience = audience_of(run.integration)
    pages = stream.page_range(first, last) if stream.page_range else stream.pages(first)
    with fetch_scope(), closing(iter(pages)) as pages:
        for page in pages:
            rows, _bad, _seen = map_page(stream=stream, page=page)
            with transaction.atomic():
                counts = _write_stats(
                    rows, run=run, integration=run.integration, stream=stream, scale=scale,
                    audience=audience, again=True,
                )  # fmt: skip
                scale_page_redone(run=run, page=page.number, scale=scale)
                run_add_counts(run=run, created=counts["created"], updated=counts["updated"])
            on_page()
            if last is not None and page.number >= last:
                break


def _write_stats(
    rows: list[StatRow],
    *,
    run: SyncRun,
    integration: Integration,
    stream: Stream,
    scale: str | None = None,
    last: _LastPages | None = None,
    audience: Audience = None,
    again: bool = False,
) -> dict:
    """One page of the report (inside its transaction). `scale`: a page read again once the
    report's scale is decided; None: a page read for the first time (provisional scale).
    `last`: what the pages before wrote (their attempts' pairs), for a page looked up while
    they were being committed. `audience`: whom its rows may match (`stats_audience`).
    `again`: the page was counted when it was first applied."""
    found = rows if isinstance(rows, MatchedRows) else None
    last = last or _LastPages()
    rows, problems = _on_scale([as_row(r) for r in rows], run=run, stream=stream, scale=scale)
    if problems:
        _record_problems(run, problems)
    named = [r for r in rows if not r.record.is_anonymized]
    if found is None:
        learners, outside = matched_only(learner_ids([r.record for r in named], audience))
        courses = course_ids(integration, [r.record for r in named])
    else:
        learners, outside, courses = found.learners, found.outside, found.courses
    unmatched = sorted({r.record.email_key for r in named if r.record.email_key not in learners})
    applicable = [r for r in named if r.record.email_key in learners]
    pending = [r for r in applicable if r.record.external_course_id not in courses]
    kept, not_kept = keep_pending(integration, pending) if pending else (0, 0)
    ready = [r for r in applicable if r.record.external_course_id in courses]
    counts = attempts_apply(
        records=ready, learner_ids=learners, course_ids=courses,
        stored=found.attempts if found is not None else None, stale=last.pairs(),
    )  # fmt: skip
    last.written(set(attempt_pairs(ready, learners, courses)))
    if not_kept and not again:  # last, like the next: a row lock held to the page's commit
        pending_not_kept(run, not_kept)
    if unmatched:  # last: its row lock is held to the page's commit
        rows_outside = sum(1 for r in named if r.record.email_key in outside)
        _remember_unmatched(run, unmatched, outside=0 if again else rows_outside)
    return {
        "anonymized": len(rows) - len(named),
        "unmatched_learners": len(named) - len(applicable),
        "pending": kept,
        **counts._asdict(),
    }


class _LastPages:
    """The (learner, course) pairs whose attempts the last pages written wrote: as many pages
    as the writer may hold while the next one is looked up (`pipeline.WRITE_AHEAD`)."""

    def __init__(self) -> None:
        self.recent: deque[set[tuple[int, int]]] = deque(maxlen=WRITE_AHEAD)

    def written(self, pairs: set[tuple[int, int]]) -> None:
        self.recent.append(pairs)

    def pairs(self) -> set[tuple[int, int]]:
        return set().union(*self.recent)


def _on_scale(
    rows: list[StatRow], *, run: SyncRun, stream: Stream, scale: str | None
) -> tuple[list[StatRow], list[tuple[MappingError, object]]]:
    if stream.report is None:
        return rows, []
    if scale is not None:
        return scale_rows(report=stream.report, rows=rows, scale=scale)
    page = int(run.checkpoint.get(stream.name, 0)) + 1  # run_stream commits pages in order
    return scale_page(run=run, report=stream.report, rows=rows, page=page)


def _record_problems(run: SyncRun, problems: list[tuple[MappingError, object]]) -> None:
    """Rows applied with a corrected value: one SyncError each, the rows are not failed; the
    run's error rows stay within their cap (`sync_errors.corrected_rows_to_record`)."""
    problems = problems[: corrected_rows_to_record(run, len(problems))]
    if not problems:
        return
    model = run.errors.model
    model.objects.bulk_create(
        [
            model(
                run=run,
                external_id=exc.external_id[:100],
                category=exc.category,
                message=exc.message[:1000],
                excerpt=str(excerpt)[:300],
            )
            for exc, excerpt in problems
        ]
    )


def _remember_unmatched(run: SyncRun, emails: list[str], *, outside: int = 0) -> None:
    """Add to the run's list (the workers of a split report add to it at once: they read it
    again under a row lock). `outside`: how many of the page's rows name a learner outside
    this group (`_count_outside`)."""
    if outside:
        _count_outside(run, outside)
    if len(run.unmatched_emails) >= UNMATCHED_LIST_LIMIT:
        return
    if split_is_on(run):
        locked = SyncRun.objects.select_for_update().filter(pk=run.pk)
        run.unmatched_emails = locked.values_list("unmatched_emails", flat=True).first() or []
    known = set(run.unmatched_emails)
    fresh = [e for e in emails if e not in known]
    if fresh and len(known) < UNMATCHED_LIST_LIMIT:
        run.unmatched_emails = [*run.unmatched_emails, *fresh][:UNMATCHED_LIST_LIMIT]
        SyncRun.objects.filter(pk=run.pk).update(unmatched_emails=run.unmatched_emails)


OUTSIDE_WARNING = "outside_group"


def _count_outside(run: SyncRun, rows: int) -> None:
    """Add `rows` to the run's "outside this group" warning: rows naming a learner of the site
    who does not see this group's catalog (counted in `unmatched_learners` too, and listed with
    the unknown ones: the list does not tell which e-mails exist elsewhere)."""
    add_to_warning(
        run,
        code=OUTSIDE_WARNING,
        rows=rows,
        message=lambda count: (
            f"{count} statistics rows name learners outside this group (who "
            "do not see its catalog): counted as unmatched, not applied."
        ),
    )
