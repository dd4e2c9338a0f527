"""How the catalog reads on every page.

`{{ attempt.time_spent_ms|duration }}` → "205 h 49 min" (milliseconds by default);
`{{ course.duration_minutes|duration:"min" }}` → "5 h 12 min" (or "s" for seconds);
an unknown value (None, not a number) is "—".
"""

from __future__ import annotations

from django import template

from catalog.durations import human_duration

register = template.Library()


@register.filter(is_safe=False)
def duration(value: object, unit: str = "ms") -> str:
    return human_duration(value, unit)
