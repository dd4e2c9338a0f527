"""axe-core's WCAG 2.1 A and AA rules on every console page, as an admin and as a learner, at
1,280 and 390 px in Debian's chromium, in English and in French. axe-core comes bundled in a
Python package (no download at test time); a page with any violation fails with axe's own
report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.test_console_flow import CHROMIUM, log_in
from tests.browser.test_every_page import (  # noqa: F401
    LOCALES,
    WIDTHS,
    admin_pages,
    learner_pages,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
]
pytest.importorskip("playwright.sync_api")
Axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe

RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def axe_problems(browser, base: str, username: str, pages, locale: str = "en-US") -> list[str]:
    axe, problems = Axe(), []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base + reverse("login"))
        if (results := axe.run(page, options=RULES)).violations_count:
            problems.append(f"login at {width}px ({locale}): {results.generate_report()}")
        log_in(page, base, username)
        for name, path in pages:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            results = axe.run(page, options=RULES)
            if results.violations_count:
                problems.append(f"{name} at {width}px ({locale}): {results.generate_report()}")
        context.close()
    return problems


def test_axe_finds_no_wcag_violation_on_any_page(live_server, browser, world):  # noqa: F811
    problems = []
    for locale in LOCALES:
        problems += axe_problems(browser, live_server.url, "alice", admin_pages(world), locale)
        problems += axe_problems(browser, live_server.url, "pia", learner_pages(world), locale)
    assert not problems, "\n".join(problems)
