"""At most `MAX_ERRORS_RECORDED` error rows of refused items per sync run.

A catalog or report of bad items (2,000 pages of them) would write a row for each: 200,000 rows
a run, kept until `purge_sync_runs` removes the run. Past the cap, a refused item is counted in
the run's `failed` as before, without a row, and the run's warning `errors_not_recorded` says how
many (the run page and the API show it): the first ones are there to read, which is what an
admin needs to fix the source. As Coursebase's report import does (`MAX_ERRORS_RECORDED`).
"""

from __future__ import annotations

from typing import Any

from integrations.core.runs import BadItem, run_record_bad_items
from integrations.models import SyncRun

from .run_warnings import add_to_warning, warning_count

MAX_ERRORS_RECORDED = 1_000
NOT_RECORDED_WARNING = "errors_not_recorded"


def record_bad_items(*, run: SyncRun, bad: list[BadItem], **kwargs: Any) -> None:
    """`run_record_bad_items`, within the run's cap. The run's `failed` so far is read again
    under a row lock when the page has refused items (the workers of a split report record
    theirs at once; taken last, as the page's counters are): every item it counts was recorded
    while there was room."""
    if not bad:
        run_record_bad_items(run=run, bad=bad, **kwargs)
        return
    failed, warnings = (
        SyncRun.objects.select_for_update().filter(pk=run.pk).values_list("failed", "warnings")
    ).first() or (run.failed, run.warnings)
    room = max(0, MAX_ERRORS_RECORDED - failed)
    recorded, rest = bad[:room], max(0, len(bad) - room)
    if rest:
        _not_recorded(run, warnings or [], rest)
    run_record_bad_items(run=run, bad=recorded, not_recorded=rest, **kwargs)


def not_recorded_count(run: SyncRun) -> int:
    """How many refused items of `run` were counted without an error row."""
    return warning_count(run.warnings, NOT_RECORDED_WARNING)


def _not_recorded(run: SyncRun, warnings: list[dict], rows: int) -> None:
    add_to_warning(
        run,
        code=NOT_RECORDED_WARNING,
        rows=rows,
        message=lambda count: (
            f"{count} more items failed than the {MAX_ERRORS_RECORDED} "
            "listed: they are counted, not listed one by one."
        ),
        warnings=warnings,
    )


CORRECTED_NOT_RECORDED_WARNING = "corrections_not_recorded"


def corrected_rows_to_record(run: SyncRun, count: int) -> int:
    """How many of `count` rows applied with a corrected value (a progress above 100 %
    clamped) get an error row: the run's rows stay within `MAX_ERRORS_RECORDED`; the rest are
    counted in the warning `corrections_not_recorded`. Called with the page's writes."""
    if not count:
        return 0
    room = max(0, MAX_ERRORS_RECORDED - run.errors.count())
    rest = max(0, count - room)
    if rest:
        add_to_warning(
            run,
            code=CORRECTED_NOT_RECORDED_WARNING,
            rows=rest,
            message=lambda total: (
                f"{total} more rows were applied with a corrected value than the "
                f"{MAX_ERRORS_RECORDED} errors listed: they are counted, not listed one by one."
            ),
        )
    return count - rest
