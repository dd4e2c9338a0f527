"""Course pictures in Debian's chromium: the catalog of a group synced from the Udemy sandbox
shows every picture (served by the sandbox, admitted by the CSP), and a picture that fails to
load is swapped for the local placeholder by static/js/img-fallback.js."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from catalog.models import Course
from integrations.models import Integration, SyncRun
from integrations.services.sync import sync_execute
from tests.browser.test_console_flow import CHROMIUM, LAUNCH_ARGS
from tests.factories import (
    DEFAULT_PASSWORD,
    CourseFactory,
    GroupFactory,
    IntegrationFactory,
    group_admin,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
        reason=f"Debian chromium is not installed at {CHROMIUM}",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")

ALL_LOADED = "() => Array.from(document.images).every((img) => img.complete)"
NONE_BROKEN = "() => Array.from(document.images).every((img) => img.naturalWidth > 0)"
IMAGES = """() => Array.from(document.images).map((img) => ({
    src: img.currentSrc || img.src,
    width: img.naturalWidth,
    fallback: img.hasAttribute("data-fallback"),
}))"""


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def synced_group(make_udemy_sandbox):
    """A group whose catalog was synced from the sandbox, plus one course whose picture is gone."""
    sandbox = make_udemy_sandbox(courses=10, paths=3)
    group = GroupFactory(name="Picture academy", slug="picture-academy")
    integration = IntegrationFactory(
        group=group,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        organization_name=sandbox.organization_name,
        organization_id=sandbox.organization_id,
        api_base_url=sandbox.api_base_url,
        sync_learning_paths=True,
        status=Integration.Status.ACTIVE,
    )
    run = SyncRun.objects.create(integration=integration, kind="content")
    assert sync_execute(run_id=run.pk).status == SyncRun.Status.SUCCEEDED
    assert Course.objects.filter(group=group).exclude(image="").count() == 13
    gone = f"{sandbox.url}/images/course/480x270/1_deadbeef.svg"  # the sandbox answers 404
    CourseFactory(integration=integration, title="A course whose picture is gone", image=gone)
    return group, gone


def open_catalog(page, base_url: str, group) -> list[dict]:
    """Log in as an admin of `group`, open its catalog, load every (lazy) picture; return them."""
    admin = group_admin(group, username="pictures-admin")
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.goto(f"{base_url}{reverse('catalog:group_catalog', args=[group.slug])}")
    cards = page.get_by_test_id("course-card")
    assert cards.count() == 14
    for i in range(cards.count()):  # the pictures are lazy: bring each one into view
        cards.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(ALL_LOADED)
    return page.evaluate(IMAGES)


def assert_all_shown(page, gone: str) -> None:
    page.wait_for_function(NONE_BROKEN, timeout=10_000)
    images = page.evaluate(IMAGES)
    assert len(images) == 14 and all(image["fallback"] for image in images)
    broken = [image for image in images if image["width"] == 0]
    assert not broken, broken
    (replaced,) = [image for image in images if "course-placeholder.svg" in image["src"]]
    assert gone not in {image["src"] for image in images}
    assert replaced["width"] == 480


@pytest.mark.django_db(transaction=True)
def test_the_catalog_shows_every_picture_and_replaces_a_broken_one(live_server, page, synced_group):
    group, gone = synced_group
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    open_catalog(page, live_server.url, group)
    assert_all_shown(page, gone)
    assert not violations, violations


@pytest.mark.django_db(transaction=True)
def test_a_picture_that_failed_before_the_script_ran_is_replaced_too(
    live_server, page, synced_group
):
    """The error event of a picture may fire before the deferred script runs: the script also
    replaces pictures already broken when it starts."""
    group, gone = synced_group
    script = "**/static/js/img-fallback.js"
    page.route(script, lambda route: route.fulfill(body="", content_type="text/javascript"))
    images = open_catalog(page, live_server.url, group)
    assert [image["src"] for image in images if image["width"] == 0] == [gone]  # no fallback yet
    page.unroute(script)
    page.add_script_tag(url=f"{live_server.url}/static/js/img-fallback.js")  # runs now
    assert_all_shown(page, gone)
