"""The admin console end to end in Debian's chromium: set up Udemy against the sandbox, sync
through a real Celery worker, browse the catalog and a course dashboard, export CSV, deactivate;
then a learner of a public child group STARTs a course and lands on Udemy.

Screenshots of the main pages go to the var dir; with UPDATE_SCREENSHOTS=1 they replace the
documentation's, in docs/screenshots/ (README.md and docs/console.md show them).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from catalog.models import Attempt, Course, Learner, Membership
from integrations.models import Integration, SyncRun
from tests.celery_worker import celery_process, wait_for
from tests.factories import DEFAULT_PASSWORD, GroupFactory, group_admin, group_learner

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(os.environ.get("LMSBRIDGE_VAR_DIR", ROOT / "var")) / "screenshots"
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WRONG_SECRET = "definitely-not-the-secret"  # what the admin mistypes
SYNC_TIMEOUT_MS = 120_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
        reason=f"Debian chromium is not installed at {CHROMIUM}",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def sync_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real `celery worker` subprocess on a queue of this test only.

    The app enqueues `run_sync` on the default queue, which every worker of the shared broker
    folder (a developer's `make dev`, another test run) also consumes: routing this test's tasks
    to its own queue keeps them away from other databases, and other tasks away from this one.
    """
    from integrations.tasks import run_sync

    queue = f"browser-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(
        run_sync, "apply_async", functools.partial(run_sync.apply_async, queue=queue)
    )
    log = tmp_path / "w.log"
    args = ("worker", "-Q", queue, "--concurrency", "1", "--without-mingle", "--without-gossip")
    with celery_process(*args, "-l", "info", "-n", f"{queue}@%h", log=log):
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        yield log


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
    # are still synchronous, so Django's async-safety guard must be told so.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    # The login form's own button, whatever the language (the language switch has one too).
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def fill_udemy_form(page, sandbox, secret: str) -> None:
    page.fill("#id_client_id", sandbox.client_id)
    page.fill("#id_client_secret", secret)
    page.fill("#id_organization_name", sandbox.organization_name)
    page.fill("#id_organization_id", sandbox.organization_id)
    page.fill("#id_api_base_url", sandbox.api_base_url)


def wait_for_run_end(page, running_shot: str = "") -> str:
    """Follow the htmx-refreshed run page (polled, never reloaded) until the run is finished.

    Returns the percentages seen on the way; the first one strictly between 0 and 100 is
    photographed as `running_shot`.
    """
    live = page.get_by_test_id("run-live")
    seen: list[str] = []
    running_shot_taken: list[str] = []

    def finished() -> bool:
        percent = page.get_by_test_id("run-percent").inner_text()
        if running_shot and not running_shot_taken and percent not in ("0 %", "100 %"):
            shot(page, running_shot)
            running_shot_taken.append(percent)
        seen.append(percent)
        return live.get_attribute("data-status") in SyncRun.FINISHED

    wait_for(finished, timeout=SYNC_TIMEOUT_MS / 1000, interval=0.2, message="the run to finish")
    if running_shot and not running_shot_taken:
        print("the run finished before an intermediate progress could be photographed")
    return " → ".join(dict.fromkeys(seen))


def recent_activity(group) -> None:
    courses = list(Course.objects.filter(group=group, kind=Course.Kind.COURSE)[:20])
    learners = list(Learner.objects.filter(memberships__group__parent=group)[:12])
    now = timezone.now()
    for i, learner in enumerate(learners):
        for j, course in enumerate(courses[i % 5 :: 5]):
            day = now - timedelta(days=(i * 7 + j * 11) % 85, hours=j)
            done = (i + j) % 3 == 0
            Attempt.objects.get_or_create(
                learner=learner,
                course=course,
                number=9,
                defaults={
                    "first_activity": day - timedelta(days=2),
                    "last_activity": day,
                    "completed_at": day if done else None,
                    "progress": 100 if done else 40,
                    "is_open": not done,
                },
            )


@pytest.fixture
def platform(make_udemy_sandbox):
    """The target group with its admin, a public child group with a learner, and the platform
    learners whose Udemy activity the statistics sync will match by e-mail."""
    # A few hundred courses served slowly: the run page shows the bar moving.
    sandbox = make_udemy_sandbox(courses=400, paths=6, learners=12, latency=0.7)
    target = GroupFactory(name="Sales academy", slug="sales-academy")
    child = GroupFactory(name="Field sales", slug="field-sales", parent=target, is_public=True)
    admin = group_admin(target, username="alice")
    learner = group_learner(child, username="pia")
    for email in sandbox.data.learner_emails:
        known = Learner.objects.create(email=email)
        Membership.objects.create(group=child, learner=known)
    return {"sandbox": sandbox, "target": target, "admin": admin, "learner": learner}


@pytest.mark.django_db(transaction=True)
def test_admin_and_learner_flow(live_server, browser_page, sync_worker, platform):
    page, base = browser_page, live_server.url
    sandbox, target = platform["sandbox"], platform["target"]

    # --- the group admin lands on Settings → Integrations
    log_in(page, base, "alice")
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    expect(page.get_by_test_id("integration-udemy")).to_contain_text("Inactive")
    shot(page, "integrations-list")

    # --- Integrations → Udemy: a wrong secret is refused with the client's message
    page.get_by_test_id("integration-udemy").click()
    fill_udemy_form(page, sandbox, WRONG_SECRET)
    page.get_by_role("button", name="SETUP INTEGRATION").click()
    expect(page.get_by_text("Udemy rejected the credentials (401)")).to_be_visible()
    expect(page.get_by_test_id("integration-status")).to_have_text("Inactive")
    expect(page.locator("#id_client_secret")).to_have_value("")
    assert WRONG_SECRET not in page.content()

    # --- the right secret activates it
    fill_udemy_form(page, sandbox, sandbox.client_secret)
    page.get_by_role("button", name="SETUP INTEGRATION").click()
    expect(page.get_by_test_id("integration-status")).to_have_text("Active · first sync pending")
    expect(page.get_by_role("alert").filter(has_text="The integration is active.")).to_be_visible()
    assert Integration.objects.get(group=target).status == Integration.Status.ACTIVE

    # --- toggle tags: saved without typing the secret again
    page.get_by_label("Enable tags synchronization").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Settings saved.")).to_be_visible()
    expect(page.get_by_label("Enable tags synchronization")).to_be_checked()
    integration = Integration.objects.get(group=target)
    assert integration.sync_tags and integration.client_secret == sandbox.client_secret
    assert sandbox.client_secret not in page.content()
    shot(page, "udemy-form")

    # --- a wrong secret typed on the working integration: refused, nothing stored (once set
    # up, Save is the one button that stores: it checks changed credentials first)
    expect(page.get_by_role("button", name="SETUP INTEGRATION")).to_have_count(0)
    fill_udemy_form(page, sandbox, WRONG_SECRET)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Udemy rejected the credentials (401)")).to_be_visible()
    expect(page.get_by_test_id("integration-status")).to_have_text("Active · first sync pending")
    assert WRONG_SECRET not in page.content()
    assert Integration.objects.get(group=target).client_secret == sandbox.client_secret

    # --- Sync content now (with the stored, working credentials): the run page's bar,
    # refreshed by htmx, reaches 100 %
    page.get_by_role("button", name="Sync content now").click()
    expect(page.get_by_test_id("run-live")).to_be_visible()
    progress = wait_for_run_end(page, running_shot="run-page-running")
    expect(page.get_by_test_id("run-status")).to_have_text(re.compile("Succeeded|Partial"))
    expect(page.get_by_test_id("run-percent")).to_have_text("100 %")
    expect(page.get_by_test_id("run-progress")).to_have_attribute("value", "100")
    print(f"content sync progress seen: {progress}")
    assert Course.objects.filter(group=target).count() >= 400
    shot(page, "run-page")

    # --- Sync statistics now, so the course dashboard has learners
    page.get_by_role("link", name="Integration settings").click()
    page.get_by_role("button", name="Sync statistics now").click()
    wait_for_run_end(page)
    assert Attempt.objects.filter(course__group=target).exists()

    # --- the catalog: search a title
    course = (  # the course with the most learners: the richest dashboard
        Course.objects.filter(group=target, kind=Course.Kind.COURSE)
        .annotate(learners=Count("attempts"))
        .order_by("-learners", "title")
        .first()
    )
    page.get_by_role("link", name="Catalog", exact=True).click()
    expect(page.get_by_test_id("catalog-count")).to_contain_text("item")
    page.get_by_placeholder("Search by title").fill(course.title)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("course-card").first).to_contain_text(course.title)
    shot(page, "catalog")

    # --- the course dashboard, then its CSV export
    page.locator(f'a[href$="/courses/{course.pk}/"]').click()  # titles may repeat upstream
    expect(page.get_by_test_id("course-title")).to_have_text(course.title)
    expect(page.get_by_test_id("course-mapping")).to_contain_text(
        "courseDuration ← estimated_content_length"
    )
    expect(page.get_by_test_id("attempts")).to_contain_text("@")
    shot(page, "course-dashboard")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    csv_text = Path(download_info.value.path()).read_text()
    assert csv_text.startswith("learner_email,progress,first_activity")
    assert csv_text.count("\n") == 1 + course.attempts.count()

    # --- the group dashboard (charts). The sandbox's activity is recent; a few more attempts
    # of the child group's learners give the chart a shape across the 90-day window.
    recent_activity(target)
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.locator(".chart svg")).to_be_visible()
    shot(page, "group-dashboard")
    page.get_by_role("link", name="Sync history", exact=True).click()
    expect(page.get_by_role("img", name="Items per run")).to_be_visible()
    expect(page.get_by_role("img", name="Duration per run")).to_be_visible()
    shot(page, "sync-history")

    # --- DEACTIVATE, confirmed: the catalog stays
    page.get_by_role("link", name="Integrations", exact=True).click()
    page.get_by_test_id("integration-udemy").click()
    # 360Learning: "You can deactivate the integration by clicking DEACTIVATE on the bottom
    # right" — the last button of the form's bottom row, right of Save (SETUP INTEGRATION
    # shows while the integration is inactive).
    form = page.get_by_test_id("integration-form").bounding_box()
    setup = page.get_by_role("button", name="Save", exact=True).bounding_box()
    deactivate = page.get_by_role("link", name="DEACTIVATE").bounding_box()
    assert deactivate["x"] > setup["x"]
    assert deactivate["x"] + deactivate["width"] > form["x"] + 0.9 * form["width"]
    assert deactivate["y"] > form["y"] + 0.8 * form["height"]
    page.get_by_role("link", name="DEACTIVATE").click()
    page.get_by_test_id("confirm-deactivate").click()
    expect(page.get_by_test_id("integration-status")).to_have_text("Inactive")
    assert Course.objects.filter(group=target, status=Course.Status.ACTIVE).count() >= 400
    log_out(page)

    # --- a learner of the public child group: catalog, START → the sandbox's course player
    log_in(page, base, "pia")
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill(course.title)
    page.get_by_role("button", name="Search", exact=True).click()
    start = page.get_by_test_id(f"start-{course.pk}")  # titles may repeat upstream
    expect(start).to_have_text("START")
    shot(page, "learner-catalog")
    start.click()
    page.wait_for_url(course.launch_url)
    expect(page.get_by_text("demo course player of the built-in Udemy sandbox")).to_be_visible()
    attempt = Attempt.objects.get(learner__user=platform["learner"], course=course)
    assert (attempt.is_open, attempt.progress, attempt.source) == (False, 0, "launch")
    assert "succeeded" in sync_worker.read_text()
