"""Promise (Performance): a sync's per-page lookups stay index probes on PostgreSQL while the sync
fills an empty table — the first sync of a large catalog runs before any autovacuum ANALYZE.

Without statistics PostgreSQL scans every course of the integration per page and filters the ~100
ids (quadratic: a 50,000-course first sync spent 10 of its 35 s there); the sync ANALYZEs the
tables it fills at 1,000, 10,000 and 100,000 rows written (`integrations/services/planner.py`),
after which the ids are in the index condition. Plans and statements, not timings.
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Course
from integrations.core.records import CourseRecord
from integrations.services.catalog_upsert import courses_upsert_page
from integrations.services.planner import PlannerStatistics
from integrations.services.stats_lookup import course_ids
from tests.factories import IntegrationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's planner: needs DATABASE_URL"
    ),
]

ROWS = 20_000
TEMPLATE = CourseRecord(
    kind="course", external_id="", title="T", name="T", description="", image="",
    duration_minutes=None, authors=(), lang="en", tag_names=(), video_url="", launch_url="",
    modified_at=None,
)  # fmt: skip


def _index_conditions(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found: list[str] = []

    def walk(node: dict) -> None:
        if "Index Cond" in node:
            found.append(node["Index Cond"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def _course_lookup(ctx: CaptureQueriesContext) -> str:
    lookups = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "catalog_course"' in q["sql"]
    ]
    assert lookups, "no course lookup was sent"
    return lookups[0]


def _upsert_lookup(integration, first: int) -> str:
    """The SELECT the content sync sends for a page of 100 known courses (which it updates)."""
    records = [replace(TEMPLATE, external_id=str(100_000 + i)) for i in range(first, first + 100)]
    with CaptureQueriesContext(connection) as ctx:
        counts = courses_upsert_page(
            integration_id=integration.pk, group_id=integration.group_id, kind="course",
            records=records,
        )  # fmt: skip
    assert counts.updated == 100
    return _course_lookup(ctx)


def _ids_in_index(sql: str) -> bool:
    return any("external_id" in condition for condition in _index_conditions(sql))


@pytest.fixture
def big_catalog():
    """ROWS courses of one integration, inserted inside the test's transaction: autovacuum cannot
    see them, so the planner has no statistics for them, as during a first sync."""
    integration = IntegrationFactory()
    Course.objects.bulk_create(
        [
            Course(
                integration=integration,
                group=integration.group,
                kind=Course.Kind.COURSE,
                external_id=str(100_000 + i),
                title=f"Course {i}",
                name=f"Course {i}",
            )
            for i in range(ROWS)
        ],
        batch_size=1_000,
    )
    return integration


def test_without_statistics_the_lookup_scans_the_integration(big_catalog):
    """The trap itself, and the control of the next tests: no statistics, no ids in the index."""
    assert not _ids_in_index(_upsert_lookup(big_catalog, 1_000))


def test_after_the_refresh_the_upsert_lookup_probes_the_index_per_id(big_catalog):
    statistics = PlannerStatistics(Course)
    statistics(ROWS)
    assert statistics.analyzed == 1
    assert _ids_in_index(_upsert_lookup(big_catalog, 1_000))


def test_after_the_refresh_the_statistics_lookup_probes_the_index_per_id(big_catalog):
    PlannerStatistics(Course)(ROWS)
    records = [SimpleNamespace(external_course_id=str(100_000 + i)) for i in range(2_000, 2_100)]
    with CaptureQueriesContext(connection) as ctx:
        assert len(course_ids(big_catalog, records)) == 100
    assert _ids_in_index(_course_lookup(ctx))


def test_the_refresh_runs_at_1k_10k_100k_rows_only():
    statistics = PlannerStatistics(Course)
    with CaptureQueriesContext(connection) as ctx:
        for written in (0, 999, 1_000, 1_500, 9_999, 10_000, 60_000, 99_999, 100_000, 100_100):
            statistics(written)
    analyzes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analyzes == ['ANALYZE "catalog_course"'] * 3
    assert statistics.analyzed == 3


def _join_types(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found: list[str] = []

    def walk(node: dict) -> None:
        if "Join Type" in node:
            found.append(f"{node['Node Type']} {node['Join Type']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


@pytest.mark.parametrize(
    ("created", "unlisted", "queries"),
    [(ROWS, 0, 1), (0, 50, 2)],
    ids=["first-sync", "re-sync-50-gone"],
)
def test_the_archival_queries_hash_the_ledger(big_catalog, created, unlisted, queries):
    """The archival of a scan (ROWS // 100 pages of 100 ids, a ledger the planner knows nothing
    of, as during a sync) that created `created` courses and no longer lists `unlisted`: every
    query it sends on the ledger is a hash anti-join, never a nested loop comparing every course
    with every listed id (what a LIMIT of a few rows made PostgreSQL choose on a first sync)."""
    from integrations.models import SyncPage, SyncRun
    from integrations.providers.base import Stream
    from integrations.services.content_sync import archive_missing

    PlannerStatistics(Course)(ROWS)  # what the sync did while it wrote the catalog
    run = SyncRun.objects.create(
        integration=big_catalog, kind="content", fetched=ROWS - unlisted, created=created
    )
    SyncPage.objects.bulk_create(
        SyncPage(
            run=run,
            stream="courses",
            number=page + 1,
            external_ids=[
                str(100_000 + page * 100 + i) for i in range(100) if page or i >= unlisted
            ],
        )
        for page in range(ROWS // 100)
    )
    stream = Stream(name="courses", kind="course", pages=None, map_item=None)
    with CaptureQueriesContext(connection) as ctx:
        archive_missing(run=run, streams=[stream])
    run.refresh_from_db()
    assert (run.archival_decision, run.archived) == ("applied", unlisted)
    on_ledger = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT") and "integrations_syncpage" in q["sql"]
    ]
    for sql in on_ledger:
        joins = _join_types(sql)
        assert not any(j.startswith("Nested Loop Anti") for j in joins), (sql, joins)
        assert any(j.startswith("Hash") and "Anti" in j for j in joins), (sql, joins)
    assert len(on_ledger) == queries  # the count, then (when some are gone) their ids
