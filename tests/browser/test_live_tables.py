"""Console pages in Debian's chromium where layout or refresh is the promise: a platform run page
follows its run to the end without a reload; the sync history, the platform runs list and the
course dashboard show every column at 1,280 px, and both run lists turn into cards at 390 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt, Learner, Membership
from integrations.models import (
    PlatformConnection,
    PlatformError,
    PlatformRun,
    SyncError,
    SyncRun,
)
from tests.browser.test_console_flow import CHROMIUM, log_in
from tests.factories import CourseFactory, GroupFactory, IntegrationFactory, group_admin

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def open_page(browser, base: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, base, "alice")
    return page


@pytest.fixture
def group():
    group = GroupFactory(name="Sales academy", slug="sales-academy")
    group_admin(group, username="alice")
    return group


def test_a_platform_run_page_follows_the_run_to_its_end_without_a_reload(
    live_server, browser, group
):
    connection = PlatformConnection.objects.create(
        group=group, kind="coursebase", status=PlatformConnection.Status.ACTIVE
    )
    run = PlatformRun.objects.create(
        connection=connection, kind="directory", trigger="manual", status="running",
        started_at=timezone.now(),
    )  # fmt: skip
    page = open_page(browser, live_server.url, 1280)
    page.goto(live_server.url + reverse("platforms:run", args=[group.slug, run.pk]))
    expect(page.get_by_test_id("run-status")).to_have_text("Running")
    page.evaluate("window.notReloaded = true")

    finished = run.started_at + timedelta(seconds=0.13)
    PlatformRun.objects.filter(pk=run.pk).update(
        status="succeeded", finished_at=finished, fetched=7, created=7
    )
    expect(page.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=10_000)
    expect(page.get_by_test_id("run-live")).to_contain_text("0.1 s")
    expect(page.get_by_test_id("run-live")).to_have_attribute("data-status", "succeeded")
    assert page.evaluate("window.notReloaded === true"), "the page was reloaded"
    # Finished: the polling stops (no hx-trigger left on the live part).
    assert page.get_by_test_id("run-live").get_attribute("hx-trigger") is None


@pytest.fixture
def busy_group(group):
    """A group with a realistic history (long error messages, every kind, big counts) and a
    course whose learners have long names and e-mails."""
    integration = IntegrationFactory(group=group)
    now = timezone.now()
    for n in range(12):
        run = SyncRun.objects.create(
            integration=integration, kind=("content", "stats")[n % 2], trigger="schedule",
            status=("succeeded", "partial", "failed")[n % 3],
            started_at=now - timedelta(hours=n, minutes=3), finished_at=now - timedelta(hours=n),
            fetched=12_345 + n, created=1_234, updated=2_345, unchanged=8_765, archived=12,
            failed=n * 3,
            # the longest status label the history shows: "Succeeded with warning"
            warnings=[{"code": "cleanup_pending", "message": "held", "count": 1}] if n == 3 else [],
        )  # fmt: skip
        if n % 3:
            SyncError.objects.create(
                run=run, category="UdemyUnavailable", external_id=str(4_000_000 + n),
                message="Udemy answered 503 (Service temporarily unavailable) " * 3,
            )  # fmt: skip
    course = CourseFactory(group=group, integration=integration)
    for n in range(8):
        learner = Learner.objects.create(
            email=f"firstname.very-long-lastname-{n}@subsidiary.example-company.com",
            first_name="Maximilian-Alexander", last_name=f"Vandenberghe-Oosterhuis {n}",
        )  # fmt: skip
        Membership.objects.create(group=group, learner=learner)
        Attempt.objects.create(
            learner=learner, course=course, number=1, progress=45.5, is_open=bool(n % 2),
            first_activity=now - timedelta(days=9), last_activity=now,
            completed_at=None if n % 2 else now, time_spent_ms=3_600_000 * (n + 1),
        )  # fmt: skip
    return {"group": group, "course": course}


def clipped_headers(page, table_testid: str) -> list[str]:
    """Header cells whose right edge lies beyond the viewport or beyond the table's scroll box
    (what a horizontal scroll hides)."""
    return page.evaluate(
        """(id) => {
            const table = document.querySelector(`[data-testid="${id}"]`);
            const box = (table.closest('.table-responsive') || table).getBoundingClientRect();
            const limit = Math.min(window.innerWidth, box.right) + 0.5;
            return [...table.querySelectorAll('thead th')]
                .filter(th => th.getBoundingClientRect().right > limit)
                .map(th => th.innerText.trim());
        }""",
        table_testid,
    )


def test_no_column_is_cut_at_1280_in_the_history_and_the_course_dashboard(
    live_server, browser, busy_group
):
    slug, course = busy_group["group"].slug, busy_group["course"]
    page = open_page(browser, live_server.url, 1280)
    page.goto(live_server.url + reverse("integrations:history", args=[slug]))
    headers = page.locator('[data-testid="run-table"] thead th').all_inner_texts()
    assert [h.strip() for h in headers[:4]] == ["Status", "When", "Kind", "Errors"]
    assert clipped_headers(page, "run-table") == []
    page.goto(live_server.url + reverse("catalog:course_dashboard", args=[slug, course.pk]))
    expect(page.get_by_test_id("attempts")).to_be_visible()
    assert clipped_headers(page, "attempts") == []


def assert_one_card_per_run(page, table_testid: str, runs: int) -> None:
    """At 390 px: every run a card no wider than the screen, its status on screen, and the
    list does not scroll sideways."""
    rows = page.locator(f'[data-testid="{table_testid}"] tbody tr')
    assert rows.count() == runs
    for index in range(rows.count()):
        row = rows.nth(index)
        status = row.get_by_test_id("run-status")
        box, row_box = status.bounding_box(), row.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "status off screen"
        assert row_box["width"] <= 390, "a row wider than the screen"
        assert row_box["height"] > 2 * box["height"], "a row, not a card (its cells side by side)"
    widths = page.evaluate(
        """(id) => {
            const table = document.querySelector(`[data-testid="${id}"]`);
            const box = table.closest('.table-responsive');
            return box ? [box.scrollWidth, box.clientWidth] : [0, 0];
        }""",
        table_testid,
    )
    assert widths[0] <= widths[1], "the list still scrolls sideways"


def test_the_history_is_a_list_of_cards_at_390(live_server, browser, busy_group):
    slug = busy_group["group"].slug
    page = open_page(browser, live_server.url, 390)
    page.goto(live_server.url + reverse("integrations:history", args=[slug]))
    assert_one_card_per_run(page, "run-table", 12)
    # Items and durations: two charts, each the width of the screen (one above the other).
    charts = page.locator('[data-testid="history-charts"] svg')
    assert charts.count() == 2
    for index in range(2):
        box = charts.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] > 300


@pytest.fixture
def busy_platform(group):
    """A group whose LearnUpon connection has a realistic run list: every kind (the longest
    label, "Catalog and completion push", included), long error messages, big counts."""
    connection = PlatformConnection.objects.create(
        group=group, kind="learnupon", status=PlatformConnection.Status.ACTIVE
    )
    now = timezone.now()
    kinds = ("directory", "push", "courses", "reports")
    for n in range(12):
        run = PlatformRun.objects.create(
            connection=connection, kind=kinds[n % 4], trigger=("schedule", "sync")[n % 2],
            status=("succeeded", "partial", "failed")[n % 3],
            started_at=now - timedelta(hours=n, minutes=3), finished_at=now - timedelta(hours=n),
            fetched=12_345 + n, created=1_234, updated=2_345, unchanged=8_765, removed=123,
            deactivated=45, failed=n * 3,
            # the longest status label: "Succeeded with warning"
            warnings=[{"code": "held", "message": "held", "count": 1}] if n == 3 else [],
        )  # fmt: skip
        if n % 3:
            PlatformError.objects.create(
                run=run, category="LearnUponUnavailable", external_id=str(4_000_000 + n),
                message="LearnUpon answered 503 (Service temporarily unavailable) " * 3,
            )  # fmt: skip
    return group


def test_no_column_is_cut_at_1280_in_the_platform_runs(live_server, browser, busy_platform):
    page = open_page(browser, live_server.url, 1280)
    page.goto(live_server.url + reverse("platforms:runs", args=[busy_platform.slug]))
    headers = page.locator('[data-testid="platform-run-table"] thead th').all_inner_texts()
    assert [h.strip() for h in headers[:4]] == ["Status", "When", "Kind", "Errors"]
    assert clipped_headers(page, "platform-run-table") == []
    first_error = page.get_by_test_id("run-errors-cell").nth(1)  # the second run (n = 1)
    expect(first_error).to_contain_text("LearnUpon failed on its side")


def test_the_platform_runs_are_a_list_of_cards_at_390(live_server, browser, busy_platform):
    page = open_page(browser, live_server.url, 390)
    page.goto(live_server.url + reverse("platforms:runs", args=[busy_platform.slug]))
    assert_one_card_per_run(page, "platform-run-table", 12)
