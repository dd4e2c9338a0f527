"""Every console page, as an admin and as a learner, at 1,280 and 390 px in Debian's chromium:
no page scrolls sideways (wide tables scroll inside their card), no console error (a CSP
violation is one), no failed request or image, and the settings sidebar folds away on a phone.
In English and in French (the browser's language), French being the longer.

With UPDATE_SCREENSHOTS=1 the main pages' screenshots at both widths replace those of
docs/screenshots/ that docs/console.md shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt, Course, Learner, Membership
from integrations.models import (
    AuditEntry,
    Integration,
    PlatformConnection,
    PlatformError,
    PlatformRun,
    SyncError,
    SyncRun,
)
from integrations.services.sync import sync_execute
from tests.browser.test_console_flow import CHROMIUM, log_in, shot
from tests.factories import GroupFactory, group_admin, group_learner

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")
WIDTHS = (1280, 390)
# The browser's language (Accept-Language): English, the default, and French.
LOCALES = ("en-US", "fr-FR")
# The pages whose screenshots at both widths the documentation shows (docs/console.md).
SHOTS = {
    "home", "udemy-form", "run-page-failed", "sync-history", "catalog", "learner-catalog",
    "course-page",
}  # fmt: skip


@pytest.fixture
def world(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=60, paths=4, learners=8)
    academy = GroupFactory(name="Academy", slug="academy")
    target = GroupFactory(name="Sales academy", slug="sales-academy", parent=academy)
    child = GroupFactory(name="Field sales", slug="field-sales", parent=target, is_public=True)
    admin = group_admin(target, username="alice")
    Membership.objects.create(group=academy, learner=admin.learner, role="admin")
    learner = group_learner(child, username="pia")
    for email in sandbox.data.learner_emails:
        Membership.objects.create(group=child, learner=Learner.objects.create(email=email))
    integration = Integration.objects.create(
        group=target, client_id=sandbox.client_id, client_secret=sandbox.client_secret,
        organization_name=sandbox.organization_name, organization_id=sandbox.organization_id,
        api_base_url=sandbox.api_base_url, status=Integration.Status.ACTIVE,
        sync_tags=True, sync_learning_paths=True, owner=admin, activated_at=timezone.now(),
    )  # fmt: skip
    runs = {}
    for kind in ("content", "stats"):
        run = SyncRun.objects.create(integration=integration, kind=kind, trigger="manual")
        runs[kind] = sync_execute(run_id=run.pk)
    failed = SyncRun.objects.create(
        integration=integration, kind="content", trigger="schedule", status="failed",
        started_at=timezone.now() - timedelta(minutes=3), finished_at=timezone.now(),
        error_summary="Courses: Udemy answered 503 (Service temporarily unavailable).",
        stream_progress={
            "courses": {"label": "Courses", "done": 20, "total": 60, "complete": False},
            "learning_paths": {"label": "Learning paths", "done": 0, "total": None},
        },
    )  # fmt: skip
    SyncError.objects.create(
        run=failed, category="UdemyUnavailable", message="Udemy answered 503 " * 8,
        excerpt='{"detail": "' + "x" * 400 + '"}',
    )  # fmt: skip
    AuditEntry.objects.create(
        integration=integration, actor=admin, action="update", fields=["sync_tags"],
        toggles={"sync_tags": True},
    )  # fmt: skip
    course = Course.objects.filter(group=target, kind="course").first()
    Attempt.objects.create(
        learner=learner.learner, course=course, number=1, progress=40, is_open=True,
        first_activity=timezone.now() - timedelta(days=3), last_activity=timezone.now(),
    )  # fmt: skip
    # A LearnUpon connection with a finished push, for the learning platform's own pages.
    connection = PlatformConnection.objects.create(
        group=target, kind="learnupon", learnupon_portal="sales", learnupon_username="api",
        learnupon_password="a-platform-password", learnupon_owner_id="1", target_group_id="5001",
        learnupon_cataloged=False, status=PlatformConnection.Status.ACTIVE,
    )  # fmt: skip
    push = PlatformRun.objects.create(
        connection=connection, kind="push", trigger="manual", status="partial",
        started_at=timezone.now() - timedelta(seconds=40), finished_at=timezone.now(),
        error_summary="1 course was refused.",
    )  # fmt: skip
    PlatformError.objects.create(
        run=push,
        category="api",
        external_id="42",
        message="LearnUpon answered 422 (name too long).",
    )
    return {"target": target, "runs": runs, "failed": failed, "course": course, "push": push}


def admin_pages(world) -> list[tuple[str, str]]:
    slug, course = world["target"].slug, world["course"]
    run = world["runs"]["content"]
    return [
        ("home", reverse("home")),
        ("integrations", reverse("integrations:settings", args=[slug])),
        ("udemy-form", reverse("integrations:provider", args=[slug, "udemy"])),
        ("sync-history", reverse("integrations:history", args=[slug])),
        ("run-page", reverse("integrations:run", args=[slug, run.pk])),
        ("run-page-failed", reverse("integrations:run", args=[slug, world["failed"].pk])),
        ("catalog", reverse("catalog:group_catalog", args=[slug])),
        ("course-dashboard", reverse("catalog:course_dashboard", args=[slug, course.pk])),
        ("group-dashboard", reverse("catalog:group_dashboard", args=[slug])),
        ("platform", reverse("platforms:connection", args=[slug])),
        ("platform-runs", reverse("platforms:runs", args=[slug])),
        ("platform-run", reverse("platforms:run", args=[slug, world["push"].pk])),
        ("platform-courses", reverse("platforms:courses", args=[slug])),
        ("api-docs", reverse("api:docs")),
        ("daily-times", reverse("integrations:sync_times", args=[slug, "udemy"])),
        ("deactivate", reverse("integrations:deactivate", args=[slug, "udemy"])),
        ("review", reverse("integrations:review", args=[slug, "udemy"])),
        ("preferences", reverse("preferences")),
    ]


def learner_pages(world) -> list[tuple[str, str]]:
    return [
        ("learner-catalog", reverse("catalog:learner_catalog")),
        ("course-page", reverse("catalog:course_page", args=[world["course"].pk])),
        ("preferences", reverse("preferences")),
    ]


def watch(page, seen: list[str]) -> None:
    """Record what goes wrong on `page`: console errors (a CSP violation is one), page errors,
    failed requests and HTTP errors. ERR_ABORTED is a request the next navigation cut short
    (a lazy image), not a failure."""

    def on_console(message) -> None:
        if message.type == "error":
            seen.append(f"console: {message.text}")

    def on_failed(request) -> None:
        if "ERR_ABORTED" not in (request.failure or ""):
            seen.append(f"failed: {request.url} {request.failure}")

    def on_response(response) -> None:
        if response.status >= 400:
            seen.append(f"{response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)


def check_pages(
    browser, base: str, username: str, pages, problems: list[str], locale: str = "en-US"
) -> None:
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
        page = context.new_page()
        page.set_default_timeout(30_000)
        seen: list[str] = []
        watch(page, seen)
        log_in(page, base, username)
        for name, path in pages:
            seen.clear()
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll > inner:
                problems.append(
                    f"{name} at {width}px ({locale}) scrolls sideways: {scroll} > {inner}"
                )
            if (
                name != "api-docs"
                and (lang := page.evaluate("document.documentElement.lang")) != locale[:2]
            ):
                problems.append(f"{name} at {width}px ({locale}): <html lang={lang!r}>")
            broken = page.evaluate(
                "[...document.images].filter(i => i.complete && i.naturalWidth === 0)"
                ".map(i => i.src)"
            )
            problems += [f"{name} at {width}px ({locale}): broken image {src}" for src in broken]
            problems += [f"{name} at {width}px ({locale}): {line}" for line in seen]
            if width == 390 and page.locator('[data-testid="settings-nav"]').count():
                links = page.locator("#settings-nav-links")
                if links.is_visible():
                    problems.append(f"{name} at 390px: the settings sidebar is not folded")
            if name in SHOTS and locale == "en-US":
                shot(page, f"{name}-{width}")
        context.close()


def test_every_page_fits_and_loads_cleanly_at_both_widths(live_server, browser, world):
    problems: list[str] = []
    for locale in LOCALES:
        check_pages(browser, live_server.url, "alice", admin_pages(world), problems, locale)
        check_pages(browser, live_server.url, "pia", learner_pages(world), problems, locale)
    assert not problems, "\n".join(problems)
