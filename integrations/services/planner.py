"""Fresh planner statistics while a sync fills tables (PostgreSQL only).

A first sync inserts a whole catalog page by page, long before autovacuum's next ANALYZE (and
where autovacuum is off, never). Without statistics PostgreSQL plans each page's lookup
`integration = … AND kind = … AND external_id IN (…100 ids)` as a scan of every course of the
integration with a filter: quadratic, a large part of a big first sync's time
(BENCHMARKS.md). PostgreSQL's advice for bulk loads is to ANALYZE after them; a sync does so while
it loads: when the rows it wrote reach 1,000, then 10,000, then 100,000 (at most a handful
of ANALYZEs per run, each a sample of at most 30,000 rows per table).

The archival's anti-join of the catalog with the run's ledger (`SyncPage`) has the same trap: with
the ledger's statistics from before the run, PostgreSQL expects one page and compares every
course with every listed id (50 million comparisons, 4.9 s, at 10,000 courses); the ledger is
analyzed once before that query, which then hashes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection, models

logger = logging.getLogger(__name__)

FIRST_THRESHOLD = 1_000
GROWTH = 10


def analyze(*tables: type[models.Model]) -> bool:
    """ANALYZE `tables` now (PostgreSQL only); False when it could not (plans stay as they are)."""
    if connection.vendor != "postgresql":
        return False
    quote = connection.ops.quote_name
    try:
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
    except DatabaseError as exc:  # e.g. not the table owner
        logger.warning("ANALYZE of %s failed (%s): continuing", tables, exc)
        return False
    return True


class PlannerStatistics:
    """Call with the rows written so far; ANALYZEs `tables` when a threshold is crossed."""

    def __init__(self, *tables: type[models.Model], first: int = FIRST_THRESHOLD) -> None:
        self.tables = tables
        self.next = first
        self.analyzed = 0

    def __call__(self, written: int) -> None:
        if written < self.next or connection.vendor != "postgresql":
            return
        while self.next <= written:
            self.next *= GROWTH
        if not analyze(*self.tables):
            self.next = float("inf")
            return
        self.analyzed += 1


def refreshing(
    on_page: Callable[[], None] | None, statistics: PlannerStatistics, written: Callable[[], int]
) -> Callable[[], None]:
    """`on_page` followed by a statistics check on the rows written so far."""

    def page_done() -> None:
        if on_page:
            on_page()
        statistics(written())

    return page_done
