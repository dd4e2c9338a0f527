"""`{{ ms|duration }}`: durations as people read them, on every catalog page and in the CSV."""

from __future__ import annotations

from html import unescape

import pytest
from django.template import Context, Template

from catalog.durations import human_duration, human_duration_ms

MINUTE = 60_000
HOUR = 60 * MINUTE


def render(template: str, **context) -> str:
    """The text a reader sees (the page escapes "<" of "< 1 min" as it should)."""
    return unescape(Template("{% load catalog_display %}" + template).render(Context(context)))


@pytest.mark.parametrize(
    ("milliseconds", "expected"),
    [
        (0, "0 min"),
        (59_000, "< 1 min"),  # time was spent: never "0 min"
        (MINUTE, "1 min"),
        (45 * MINUTE + 59_999, "45 min"),  # whole minutes, rounded down
        (61 * MINUTE, "1 h 01 min"),
        (125 * MINUTE, "2 h 05 min"),
        (205 * HOUR + 49 * MINUTE, "205 h 49 min"),  # hours are not folded into days
        (None, "—"),  # not known
        (-5 * MINUTE, "0 min"),
    ],
)
def test_milliseconds(milliseconds, expected):
    assert render("{{ ms|duration }}", ms=milliseconds) == expected
    assert human_duration_ms(milliseconds) == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (312, "min", "5 h 12 min"),
        (0, "min", "0 min"),
        (None, "min", "—"),
        (59, "s", "< 1 min"),
        (61 * 60, "s", "1 h 01 min"),
        (12_349, "min", "205 h 49 min"),
        (60_000, "ms", "1 min"),
    ],
)
def test_other_units(value, unit, expected):
    assert render(f'{{{{ value|duration:"{unit}" }}}}', value=value) == expected


@pytest.mark.parametrize("value", ["", "soon", "nan", "inf", True, [], object()])
def test_anything_but_a_number_is_unknown(value):
    assert render("{{ value|duration }}", value=value) == "—"


def test_an_unknown_unit_is_unknown_not_a_guess():
    assert human_duration(5, "hours") == "—"


def test_the_output_is_escaped_like_any_text():
    assert "&lt; 1 min" in Template("{% load catalog_display %}{{ 1|duration:'s' }}").render(
        Context()
    )


def test_a_missing_variable_is_unknown():
    assert render("{{ nothing|duration }}") == "—"
