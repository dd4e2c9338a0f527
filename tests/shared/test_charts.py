"""The pygal charts: inline SVG, no script, no CDN, robust to empty data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from shared.charts import activity_chart, run_history_chart


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


# ------------------------------------------------------------------- items apart from seconds


def axis_labels(svg: str, axis: str) -> list[str]:
    """The tick labels pygal wrote on the `axis` ("x" or "y") of a chart."""
    import re

    block = re.search(rf'<g class="axis {axis}[^"]*">(.*?)</g>\s*</g>', svg, re.S)
    assert block, f"no {axis} axis"
    return re.findall(r"<text[^>]*>([^<]*)</text>", block[1])


def test_items_and_seconds_are_charted_apart_with_their_own_ticks():
    """One axis for items and seconds printed "0.1 0.1 0.1 0 0": two charts, whole numbers of
    items, seconds as people read them."""
    from shared.charts import duration_ticks, run_duration_chart, run_items_chart

    runs = [run(1, 0.13, 3), run(2, 0.05, 1), run(3, 0.1, 0), run(4, None, 2)]
    items = run_items_chart(runs)
    seconds = run_duration_chart(runs)
    assert "Items fetched" in items and "Duration" not in items
    assert "Duration" in seconds and "Items fetched" not in seconds
    item_ticks = axis_labels(items, "y")
    assert item_ticks and all(label.isdigit() for label in item_ticks)
    assert len(set(item_ticks)) == len(item_ticks)
    second_ticks = axis_labels(seconds, "y")
    assert len(set(second_ticks)) == len(second_ticks) >= 3
    assert all(label.endswith(" s") for label in second_ticks)
    assert [label for _, label in duration_ticks(0.13)][:3] == ["0 s", "0.05 s", "0.1 s"]
    assert [label for _, label in duration_ticks(200)][-1] in ("4 min", "3 min 20 s", "5 min")
    assert [label for _, label in duration_ticks(5400)][-1] in ("1 h 40 min", "2 h", "1 h 30 min")


def test_no_duration_chart_before_any_run_finished():
    from shared.charts import run_duration_chart

    assert run_duration_chart([run(1, None), run(2, None)]) == ""
