"""In Debian's chromium: a held clean-up reads as a warning with a way out, the admin archives
by typing the number, and a run page shows an outage's retries while they happen."""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from catalog.models import Course
from integrations.models import Integration, SyncRun
from integrations.services.sync import sync_execute
from tests.browser.test_console_flow import shot
from tests.browser.test_live_tables import open_page
from tests.factories import GroupFactory, IntegrationFactory, group_admin

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not __import__("pathlib").Path("/usr/bin/chromium").exists(), reason="no chromium"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def _sync(integration: Integration) -> SyncRun:
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    return sync_execute(run_id=run.pk)


@pytest.fixture
def integration(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    group = GroupFactory(name="Sales academy", slug="sales-academy")
    group_admin(group, username="alice")
    integration = IntegrationFactory(
        group=group,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        organization_name=sandbox.organization_name,
        organization_id=sandbox.organization_id,
        api_base_url=sandbox.api_base_url,
        status=Integration.Status.ACTIVE,
    )
    integration.sandbox = sandbox
    return integration


def test_a_held_clean_up_is_reviewed_and_archived_by_number(live_server, browser, integration):
    _sync(integration)
    integration.sandbox.data.retire_courses(
        [c["id"] for c in integration.sandbox.data.courses[:30]]
    )
    held = _sync(integration)
    slug = integration.group.slug

    page = open_page(browser, live_server.url, 1280)
    page.goto(live_server.url + reverse("integrations:run", args=[slug, held.pk]))
    expect(page.get_by_test_id("run-status")).to_have_text("Succeeded with warning")
    expect(page.get_by_test_id("run-warning")).to_contain_text("30 of the 100 published courses")
    shot(page, "run-page-warning")

    page.goto(live_server.url + reverse("integrations:provider", args=[slug, "udemy"]))
    banner = page.get_by_test_id("review-banner")
    expect(banner).to_contain_text("30 courses are no longer on Udemy")
    banner.get_by_role("link", name="Review").click()
    expect(page.get_by_test_id("missing-row")).to_have_count(30)
    shot(page, "review-page")

    page.get_by_label("Type 30 to confirm").fill("29")
    page.get_by_role("button", name="Archive these 30").click()
    expect(page.get_by_text("nothing was changed")).to_be_visible()
    assert not Course.objects.filter(status=Course.Status.ARCHIVED).exists()
    page.get_by_label("Type 30 to confirm").fill("30")
    page.get_by_role("button", name="Archive these 30").click()
    expect(page.get_by_text("30 courses archived.")).to_be_visible()
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 30
    page.goto(live_server.url + reverse("integrations:provider", args=[slug, "udemy"]))
    expect(page.get_by_test_id("review-banner")).to_have_count(0)


def test_the_review_page_fits_a_phone(live_server, browser, integration):
    _sync(integration)
    integration.sandbox.data.retire_courses(
        [c["id"] for c in integration.sandbox.data.courses[:30]]
    )
    integration.sandbox.data.add_courses(80)
    _sync(integration)
    page = open_page(browser, live_server.url, 390)
    page.goto(
        live_server.url + reverse("integrations:review", args=[integration.group.slug, "udemy"])
    )
    expect(page.get_by_role("button", name="Publish these 80")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(page, "review-page-390")


def test_the_run_page_shows_retries_while_they_happen(live_server, browser, integration):
    sandbox = integration.sandbox
    sandbox.fail(path_contains="courses/list", status=503, retry_after=3, times=3)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    page = open_page(browser, live_server.url, 1280)
    page.goto(live_server.url + reverse("integrations:run", args=[integration.group.slug, run.pk]))
    worker = threading.Thread(target=sync_execute, kwargs={"run_id": run.pk})
    worker.start()
    try:
        waiting = page.get_by_test_id("run-waiting-reason")
        expect(waiting).to_contain_text("Udemy unreachable or failing — retry", timeout=20_000)
        shot(page, "run-page-retrying")
        expect(page.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=60_000)
        expect(waiting).to_have_count(0)
    finally:
        worker.join(timeout=120)


def test_a_launch_reads_the_same_to_the_learner_and_the_admin(live_server, browser, integration):
    """START lands on the sandbox's player; back in the catalog the learner reads "Launched ·
    counted as completed, per 360Learning's rule", and so does the admin on the course's
    dashboard, whose "Completed on Udemy" tile does not move."""
    from tests.browser.test_console_flow import log_in
    from tests.factories import group_learner

    _sync(integration)
    group_learner(integration.group, username="pia")
    course = Course.objects.filter(integration=integration).order_by("title").first()
    words = "Launched · counted as completed, per 360Learning's rule"

    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "pia")
    page.goto(live_server.url + reverse("catalog:course_page", args=[course.pk]))
    page.get_by_role("button", name="START").click()
    expect(page.get_by_text("demo course player of the built-in Udemy sandbox")).to_be_visible()
    page.goto(live_server.url + reverse("catalog:course_page", args=[course.pk]))
    expect(page.get_by_test_id("my-progress")).to_contain_text(words)
    shot(page, "learner-launched-390")
    context.close()

    admin = open_page(browser, live_server.url, 1280)
    admin.goto(
        live_server.url
        + reverse("catalog:course_dashboard", args=[integration.group.slug, course.pk])
    )
    expect(admin.get_by_test_id("summary-completions")).to_have_text("0")
    expect(admin.get_by_test_id("summary-launched")).to_be_visible()
    expect(admin.get_by_test_id("attempt-state")).to_have_text(words)
