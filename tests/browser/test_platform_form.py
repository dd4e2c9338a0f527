"""The learning-platform form in Debian's chromium: choosing another platform swaps in that
platform's fields (htmx, served by the site itself, under the site's Content-Security-Policy),
and the other platform's fields are gone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, GroupFactory, group_admin

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
        reason=f"Debian chromium is not installed at {CHROMIUM}",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_choosing_a_platform_shows_only_its_fields(live_server, page):
    group = GroupFactory(name="Form academy", slug="form-academy")
    admin = group_admin(group, username="form-admin")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}{reverse('platforms:connection', args=[group.slug])}")

    expect(page.locator("#id_learnupon_portal")).to_be_visible()
    expect(page.locator("#id_learnupon_cataloged_0")).to_be_attached()
    assert page.locator("#id_coursebase_domain").count() == 0

    page.select_option("#id_kind", "coursebase")
    expect(page.locator("#id_coursebase_domain")).to_be_visible()
    assert page.locator("#id_learnupon_portal").count() == 0
    assert page.locator("#id_learnupon_password").count() == 0
    assert page.locator("button[value=switch]").is_hidden()  # the no-script fallback

    page.select_option("#id_kind", "learnupon")
    expect(page.locator("#id_learnupon_portal")).to_be_visible()
    assert page.locator("#id_coursebase_domain").count() == 0
    assert not [p for p in problems if "Content Security Policy" in p or "htmx" in p], problems
