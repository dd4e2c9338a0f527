"""The pygal charts: inline SVG, no script, no CDN, robust to empty data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from lmsbridge.charts import activity_chart, run_history_chart


def run(pk: int, seconds: float | None, fetched: int = 0) -> SyncRun:
    start = timezone.now()
    finished = start + timedelta(seconds=seconds) if seconds is not None else None
    return SyncRun(pk=pk, started_at=start, finished_at=finished, fetched=fetched)


@pytest.mark.parametrize(
    "runs",
    [
        [run(1, 12.5, 300)],
        [run(1, None), run(2, None)],  # nothing finished yet: no duration axis
        [run(i, i * 1.5, i * 10) for i in range(1, 40)],
        [run(1, 0, 0)],
    ],
)
def test_run_history_chart_is_inline_svg_without_script(runs):
    svg = run_history_chart(runs)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<script" not in svg and "kozea.github.io" not in svg


def test_run_history_chart_of_nothing_is_empty():
    assert run_history_chart([]) == ""


def test_activity_chart():
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(90)]
    svg = activity_chart(
        days=days, completions=[i % 3 for i in range(90)], active_learners=[1] * 90
    )
    assert svg.startswith("<svg") and "<script" not in svg
    assert "Completions" in svg and "Active learners" in svg
    assert activity_chart(days=days, completions=[0] * 90, active_learners=[0] * 90) == ""
