"""What every browser test shares: Debian's chromium driven by Playwright (never a downloaded
browser build)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.test_console_flow import CHROMIUM, LAUNCH_ARGS


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    """One chromium for the test; its pages come from `browser.new_context()`."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety guard must be told so.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
