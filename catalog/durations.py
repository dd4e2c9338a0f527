"""Durations as people read them: "0 min", "< 1 min", "45 min", "2 h 05 min", "205 h 49 min".

One spelling for every page and export: the learners' time spent (milliseconds) and a course's
length (minutes) alike. Hours are not folded into days: a course of 205 h reads "205 h 49 min".
"""

from __future__ import annotations

UNKNOWN = "—"
MS_PER_UNIT = {"ms": 1, "s": 1_000, "min": 60_000}


def human_duration_ms(milliseconds: int | float | None) -> str:
    """`None` (not known) is "—"; nothing spent is "0 min"; under a minute is "< 1 min" (never
    "0 min" for time that was spent); otherwise whole minutes, rounded down."""
    if milliseconds is None:
        return UNKNOWN
    if milliseconds <= 0:
        return "0 min"
    minutes = int(milliseconds // 60_000)
    if minutes == 0:
        return "< 1 min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def human_duration(value: object, unit: str = "ms") -> str:
    """`value` counted in `unit` ("ms", "s" or "min"); anything that is not a number is "—"."""
    if value is None or isinstance(value, bool) or unit not in MS_PER_UNIT:
        return UNKNOWN
    try:
        number = float(value)
    except (TypeError, ValueError):
        return UNKNOWN
    if number != number or number in (float("inf"), float("-inf")):  # NaN, infinity
        return UNKNOWN
    return human_duration_ms(number * MS_PER_UNIT[unit])
