"""The language switch of the top bar in Debian's chromium at 390 px: reached from the folded
menu, used with the keyboard, it turns the page French and stays on the same page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.test_console_flow import CHROMIUM, log_in
from tests.factories import CourseFactory, GroupFactory, IntegrationFactory, group_learner

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
]
pytest.importorskip("playwright.sync_api")


def test_the_switch_turns_the_page_french_and_stays_on_it(live_server, browser):
    group = GroupFactory(name="Sales", slug="sales")
    group_learner(group, username="leo")
    CourseFactory(integration=IntegrationFactory(group=group), title="Python basics")
    context = browser.new_context(viewport={"width": 390, "height": 800}, locale="en-US")
    page = context.new_page()
    log_in(page, live_server.url, "leo")
    url = live_server.url + reverse("catalog:learner_catalog") + "?q=python"
    page.goto(url)
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("button", name="Toggle navigation").press("Enter")
    select = page.get_by_label("Display language")
    select.focus()
    select.select_option("fr")
    page.get_by_role("button", name="Apply").press("Enter")
    page.wait_for_load_state()
    assert page.url == url
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.get_by_role("heading", name="Catalogue").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The choice is kept from page to page.
    page.goto(live_server.url + reverse("catalog:learner_catalog"))
    assert page.get_by_placeholder("Rechercher des cours").is_visible()
    context.close()
