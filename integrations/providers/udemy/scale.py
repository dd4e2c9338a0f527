"""The completion_ratio scale of a user-course-activity report, decided once per report.

The Udemy Business API guide does not say whether `completion_ratio` runs from 0 to 1 or from
0 to 100, and a guess per value is wrong at both ends: on a 0-1 report a completed course's
`1.0` would read as 1 %, on a 0-100 report a row at `0.5` would read as 50 %. So the scale is
decided for a whole report, from all its values, and recorded on the run:

1. any value above 1 → 0-100 (only a percentage goes above 1);
2. otherwise any value strictly between 0 and 1 → 0-1;
3. otherwise (only 0 and 1) the 1s decide by their completion dates: a 1 with a completion date
   is a completed course (1 = 100 %, 0-1), a 1 without one is a course barely started
   (1 = 1 %, 0-100); the larger group wins, a tie reads 0-100;
4. otherwise (only zeros, or no value at all) nothing decides: 0 is 0 % on both scales.

A value above 100 is applied as 100 % and reported (`MappingError` "invalid_value", recorded
as a SyncError; the row is not dropped). Pure functions: the sync keeps the evidence with its
checkpoint and applies the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from integrations.core.records import MappingError, StatRecord

from ..base import StatRow

PERCENT = "0-100"
FRACTION = "0-1"
UNDECIDED = ""
EVIDENCE_KEYS = ("above_one", "fractions", "ones_completed", "ones_open")


def observe(evidence: Mapping[str, int], rows: Sequence[StatRow]) -> dict[str, int]:
    """The evidence so far, extended with the ratios of `rows` (counts, JSON-ready)."""
    counts = {key: int(evidence.get(key, 0)) for key in EVIDENCE_KEYS}
    for row in rows:
        if row.ratio > 1:
            counts["above_one"] += 1
        elif row.ratio == 1:
            counts["ones_completed" if row.record.completed_at else "ones_open"] += 1
        elif row.ratio > 0:
            counts["fractions"] += 1
    return counts


def decide(evidence: Mapping[str, int]) -> str:
    """The report's scale from the evidence of all its rows (see the module's rules)."""
    if evidence.get("above_one"):
        return PERCENT
    if evidence.get("fractions"):
        return FRACTION
    completed, open_ = evidence.get("ones_completed", 0), evidence.get("ones_open", 0)
    if completed or open_:
        return FRACTION if completed > open_ else PERCENT
    return UNDECIDED


def settled(evidence: Mapping[str, int]) -> str:
    """A scale no later row can change (a value above 1 was seen), or ""."""
    return PERCENT if evidence.get("above_one") else UNDECIDED


def progress(ratio: float, scale: str) -> tuple[float, bool]:
    """(progress 0-100, clamped) of a ratio on `scale`; an undecided scale reads 0-100."""
    value = ratio * 100 if scale == FRACTION else ratio
    if value > 100:
        return 100.0, True
    # Rounded: 0.29 * 100 is 28.999999999999996, and the fingerprint must not flicker.
    return round(float(value), 4), False


def apply(row: StatRow, scale: str) -> tuple[StatRecord, MappingError | None]:
    """The row's record with its progress on the report's scale, and the problem to report when
    the value had to be clamped to 100 %."""
    value, clamped = progress(row.ratio, scale)
    record = row.record
    if record.progress != value:
        record = replace(record, progress=value)
    if not clamped:
        return record, None
    problem = MappingError(
        record.external_course_id,
        "invalid_value",
        f"completion_ratio {row.ratio:g} is above 100 %: applied as 100 %",
        f"completion_ratio={row.ratio!r} ({record.email})"[:200],
    )
    return record, problem


class CompletionRatioScale:
    """The `ReportScale` of the user-course-activity report (`providers.base.ReportScale`)."""

    observe = staticmethod(observe)
    decide = staticmethod(decide)
    settled = staticmethod(settled)
    apply = staticmethod(apply)


COMPLETION_RATIO = CompletionRatioScale()
