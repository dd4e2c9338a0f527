"""The ratio scale of a statistics report, decided once per run from all its rows.

A report is streamed page by page and each page is committed with its checkpoint, so its rows
are applied before the last page is read. They are applied on a *provisional* scale: the one no
later row can change if a row already settled it, else the scale the integration's previous
report was decided on, else the scale the rows read so far point to. The evidence (counts of
ratios), that provisional choice and which pages were applied on which scale are kept in the
run's checkpoint (`checkpoint["ratio_scale"]`), in the page's transaction: a resumed run goes on
where it stopped. Once the report is read the scale is decided from all its rows and recorded on
the run (`SyncRun.ratio_scale`); pages applied on another scale are read again and applied on
it (rare: the report's scale changed, or its first pages could not tell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from integrations.core.records import MappingError
from integrations.models import SyncRun
from integrations.providers.base import ReportScale, StatRow

KEY = "ratio_scale"


@dataclass
class ScaleState:
    """What `checkpoint["ratio_scale"]` holds: evidence, the prior scale and page ranges."""

    prior: str
    evidence: dict[str, int]
    pages: list[list]  # [[first page, last page, scale], ...] in page order

    @classmethod
    def of(cls, run: SyncRun) -> ScaleState:
        data = run.checkpoint.get(KEY) or {}
        return cls(
            prior=data.get("prior", ""),
            evidence=dict(data.get("evidence", {})),
            pages=[list(p) for p in data.get("pages", [])],
        )

    def save_into(self, run: SyncRun) -> None:
        """Into the run's checkpoint dict, written with the page's checkpoint (same UPDATE)."""
        run.checkpoint[KEY] = {"prior": self.prior, "evidence": self.evidence, "pages": self.pages}

    def mark(self, page: int, scale: str) -> None:
        """Page `page` is applied on `scale` (ranges split and merged as needed)."""
        ranges = [[page, page, scale]]
        for first, last, other in self.pages:
            if not first <= page <= last:
                ranges.append([first, last, other])
                continue
            if first < page:
                ranges.append([first, page - 1, other])
            if page < last:
                ranges.append([page + 1, last, other])
        merged: list[list] = []
        for first, last, other in sorted(ranges):
            if merged and merged[-1][2] == other and merged[-1][1] == first - 1:
                merged[-1][1] = last
            else:
                merged.append([first, last, other])
        self.pages = merged

    def stale(self, final: str) -> list[tuple[int, int]]:
        """Page ranges applied on a scale other than the decided one ("" = only zeros, which
        read the same on every scale)."""
        return [(first, last) for first, last, scale in self.pages if scale not in ("", final)]


def scale_start(*, run: SyncRun) -> None:
    """First slice of a run: remember the scale of the integration's last decided report."""
    if KEY in run.checkpoint:
        return
    prior = (
        SyncRun.objects.filter(integration_id=run.integration_id, kind=SyncRun.Kind.STATS)
        .exclude(pk=run.pk)
        .exclude(ratio_scale="")
        .order_by("-created_at", "-pk")
        .values_list("ratio_scale", flat=True)
        .first()
    )
    ScaleState(prior=prior or "", evidence={}, pages=[]).save_into(run)


def scale_page(
    *, run: SyncRun, report: ReportScale, rows: Sequence[StatRow], page: int
) -> tuple[list[StatRow], list[tuple[MappingError, object]]]:
    """A page read for the first time: add its evidence, apply it on the provisional scale."""
    state = ScaleState.of(run)
    state.evidence = report.observe(state.evidence, rows)
    scale = report.settled(state.evidence) or state.prior or report.decide(state.evidence)
    state.mark(page, scale)
    state.save_into(run)
    return scale_rows(report=report, rows=rows, scale=scale)


def scale_rows(
    *, report: ReportScale, rows: Sequence[StatRow], scale: str
) -> tuple[list[StatRow], list[tuple[MappingError, object]]]:
    """The rows with their progress on `scale`, and the problems to record (clamped values)."""
    scaled, problems = [], []
    for row in rows:
        record, problem = report.apply(row, scale)
        scaled.append(row if record is row.record else replace(row, record=record))
        if problem is not None:
            problems.append((problem, problem.excerpt))
    return scaled, problems


def scale_current(run: SyncRun) -> str:
    """The scale the report's pages are applied on so far (that of its last page read)."""
    pages = ScaleState.of(run).pages
    return pages[-1][2] if pages else ""


def scale_decided(
    *, run: SyncRun, report: ReportScale, extra: dict[str, int] | None = None
) -> tuple[str, list[tuple[int, int]]]:
    """The report's scale from all its rows (`extra`: the evidence of pages read elsewhere, the
    ranges of a split report), and the page ranges to apply again on it."""
    state = ScaleState.of(run)
    evidence = dict(state.evidence)
    for key, value in (extra or {}).items():
        evidence[key] = evidence.get(key, 0) + value
    final = report.decide(evidence)
    return final, state.stale(final)


def scale_page_redone(*, run: SyncRun, page: int, scale: str) -> None:
    state = ScaleState.of(run)
    state.mark(page, scale)
    state.save_into(run)
    SyncRun.objects.filter(pk=run.pk).update(checkpoint=run.checkpoint)


def scale_record(*, run: SyncRun, scale: str) -> None:
    run.ratio_scale = scale
    SyncRun.objects.filter(pk=run.pk).update(ratio_scale=scale)
