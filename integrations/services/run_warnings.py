"""A sync run's warnings: one per code (a new one replaces the one before), and the counted
ones, whose count grows page after page.

Several pages (and the workers of a split report) add to a counted warning at once, so the
warnings are read again under a row lock before the count is added; the lock is held to the
page's commit, which is why a caller takes it last.
"""

from __future__ import annotations

from collections.abc import Callable

from integrations.models import SyncRun


def warning_count(warnings: list[dict], code: str) -> int:
    """The count of the warning `code` among `warnings` (0 without one)."""
    return next((int(w.get("count", 0)) for w in warnings if w.get("code") == code), 0)


def locked_warnings(run: SyncRun) -> list[dict]:
    """The run's warnings as stored, read under a row lock."""
    locked = SyncRun.objects.select_for_update().filter(pk=run.pk)
    return locked.values_list("warnings", flat=True).first() or []


def add_to_warning(
    run: SyncRun,
    *,
    code: str,
    rows: int,
    message: Callable[[int], str],
    warnings: list[dict] | None = None,
) -> None:
    """Add `rows` to the run's warning `code`, worded by `message(count)` with the new count,
    and save it at once. `warnings`: the stored ones when the caller has already read them under
    the row lock; read here otherwise."""
    if warnings is None:
        warnings = locked_warnings(run)
    count = warning_count(warnings, code) + rows
    put_warning(run, {"code": code, "count": count, "message": message(count)}, warnings)


def put_warning(run: SyncRun, warning: dict, warnings: list[dict]) -> None:
    """Save the run's warnings: `warnings` with `warning` in place of the one of its code (one
    per code, the latest wins)."""
    code = warning["code"]
    run.warnings = [w for w in warnings if w.get("code") != code] + [warning]
    SyncRun.objects.filter(pk=run.pk).update(warnings=run.warnings)
