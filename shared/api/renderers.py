"""CSV output of the API: content negotiation only; the rows go through `shared.csv_export`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from shared.csv_export import csv_lines


class CsvRenderer(BaseRenderer):
    """Selected by `?format=csv` or `Accept: text/csv`.

    The statistics view streams its CSV itself (all rows, not one page); this renderer only
    makes DRF's content negotiation accept the format, and renders a plain list if given one.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> str:
        rows = data if isinstance(data, list) else []
        columns = list(rows[0]) if rows else []
        return "".join(csv_lines(columns, rows)) if columns else ""
