"""The completion_ratio scale, decided once per report (`providers/udemy/scale.py`), and the
started/enrolled state of a row. Pure functions: no database.

360Learning: "The user progress (from 0 to 100%)". The Udemy Business API guide does not say on
which scale `completion_ratio` comes, so the whole report decides it, never one value.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.providers.udemy import scale as ratio_scale
from integrations.providers.udemy.mapping import map_activity_row

PERCENT, FRACTION, UNDECIDED = ratio_scale.PERCENT, ratio_scale.FRACTION, ratio_scale.UNDECIDED
COMPLETED = "2024-03-01T12:00:00Z"


def row(ratio: Any, *, completed: str | None = None, **fields: Any):
    raw = {
        "course_id": 42,
        "user_email": "ada@example.com",
        "completion_ratio": ratio,
        "course_completion_date": completed,
        **fields,
    }
    return map_activity_row(raw)


def decided(rows) -> str:
    return ratio_scale.decide(ratio_scale.observe({}, rows))


def progress_of(rows) -> list[float]:
    scale = decided(rows)
    return [ratio_scale.apply(r, scale)[0].progress for r in rows]


def test_a_0_to_1_report_reads_a_completed_course_as_100_percent():
    """A 0-1 report: 1.0 is a completed course (100 %), never 1 %."""
    rows = [row(0.0), row(0.25), row(1.0, completed=COMPLETED), row(0.5)]
    assert decided(rows) == FRACTION
    assert progress_of(rows) == [0.0, 25.0, 100.0, 50.0]


def test_a_0_to_100_report_reads_half_a_percent_as_half_a_percent():
    """A 0-100 report: a row at 0.5 is 0.5 %, never 50 %."""
    rows = [row(0), row(0.5), row(35), row(100, completed=COMPLETED)]
    assert decided(rows) == PERCENT
    assert progress_of(rows) == [0.0, 0.5, 35.0, 100.0]


def test_mixed_integers_and_fractions_on_a_0_to_100_report():
    rows = [row(12), row(35.5), row(0.75), row(1), row(0)]
    assert decided(rows) == PERCENT
    assert progress_of(rows) == [12.0, 35.5, 0.75, 1.0, 0.0]


def test_mixed_integers_and_fractions_on_a_0_to_1_report():
    rows = [row(0), row(1, completed=COMPLETED), row(0.333), row(1.0, completed=COMPLETED)]
    assert decided(rows) == FRACTION
    assert progress_of(rows) == [0.0, 100.0, 33.3, 100.0]


def test_only_zeros_and_ones_are_decided_by_the_completion_dates():
    """All rows 0 or 1: a 1 with a completion date is a completed course (0-1 report); a 1
    without one is a course barely started (0-100 report)."""
    completed_ones = [row(0), row(1, completed=COMPLETED), row(1.0, completed=COMPLETED)]
    assert decided(completed_ones) == FRACTION
    assert progress_of(completed_ones) == [0.0, 100.0, 100.0]
    open_ones = [row(0), row(1), row(1)]
    assert decided(open_ones) == PERCENT
    assert progress_of(open_ones) == [0.0, 1.0, 1.0]
    tie = [row(1), row(1, completed=COMPLETED)]
    assert decided(tie) == PERCENT


@pytest.mark.parametrize(
    ("ratio", "completed", "scale", "progress"),
    [
        (0.4, None, FRACTION, 40.0),
        (40, None, PERCENT, 40.0),
        (1.0, COMPLETED, FRACTION, 100.0),
        (1, None, PERCENT, 1.0),
        (0, None, UNDECIDED, 0.0),
        (None, None, UNDECIDED, 0.0),
    ],
)
def test_a_report_with_a_single_row(ratio, completed, scale, progress):
    rows = [row(ratio, completed=completed)]
    assert decided(rows) == scale
    assert progress_of(rows) == [progress]


def test_values_above_100_are_clamped_and_reported():
    rows = [row(20), row(150, completed=COMPLETED)]
    assert decided(rows) == PERCENT
    record, problem = ratio_scale.apply(rows[1], PERCENT)
    assert record.progress == 100.0
    assert problem is not None and problem.category == "invalid_value"
    assert problem.external_id == "42"


def test_a_value_above_1_settles_the_scale_for_the_rest_of_the_report():
    evidence = ratio_scale.observe({}, [row(0.5)])
    assert ratio_scale.settled(evidence) == UNDECIDED
    evidence = ratio_scale.observe(evidence, [row(3)])
    assert ratio_scale.settled(evidence) == PERCENT
    evidence = ratio_scale.observe(evidence, [row(0.2)] * 50)
    assert ratio_scale.decide(evidence) == PERCENT


ratios = st.one_of(
    st.just(0),
    st.just(1),
    st.just(1.0),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.integers(min_value=0, max_value=100),
    st.floats(min_value=0, max_value=100, allow_nan=False),
)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.tuples(ratios, st.booleans()), max_size=30),
    cut=st.integers(min_value=0, max_value=30),
)
def test_the_decision_takes_all_values_whatever_the_pages(values, cut):
    """Decided once per report from all its values: the same whatever the page boundaries or
    the order of the rows."""
    rows = [row(v, completed=COMPLETED if done else None) for v, done in values]
    whole = ratio_scale.observe({}, rows)
    paged = ratio_scale.observe(ratio_scale.observe({}, rows[:cut]), rows[cut:])
    assert whole == paged
    assert ratio_scale.decide(whole) == ratio_scale.decide(ratio_scale.observe({}, rows[::-1]))
    scale = ratio_scale.decide(whole)
    for r in rows:
        assert 0.0 <= ratio_scale.apply(r, scale)[0].progress <= 100.0


# --------------------------------------------------------------------------- started or enrolled


@pytest.mark.parametrize(
    ("fields", "started"),
    [
        ({"course_enroll_date": "2024-01-01"}, False),
        ({"course_enroll_date": "2024-01-01", "is_assigned": "Yes"}, False),
        ({"course_enroll_date": "2024-01-01", "course_start_date": "2024-01-02"}, True),
        ({"course_enroll_date": "2024-01-01", "completion_ratio": 3}, True),
        ({"course_enroll_date": "2024-01-01", "num_video_consumed_minutes": 2}, True),
        ({"course_enroll_date": "2024-01-01", "course_completion_date": COMPLETED}, True),
    ],
)
def test_a_row_is_started_by_a_start_date_progress_minutes_or_a_completion(fields, started):
    """360Learning: "If a learner starts a course externally (without attempting in 360Learning)
    and does not finish it before the next connector synchronization, then an opened attempt
    is created" — started, not only enrolled or assigned."""
    raw = {"course_id": 7, "user_email": "ada@example.com", "completion_ratio": 0, **fields}
    assert map_activity_row(raw).started is started
