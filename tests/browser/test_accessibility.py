"""Accessibility promises of the console in Debian's chromium (WCAG 2.1 AA): links readable on
the grey page (contrast ≥ 4.5:1), a label for every filter, a skip link first in the tab order,
focus on the first wrong field after an error, a focus ring that shows on the dark top bar, table
text that wraps at spaces, and Sync now near the top of the settings page on a phone."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import AuditEntry, Integration
from tests.browser.test_console_flow import CHROMIUM, log_in
from tests.factories import GroupFactory, IntegrationFactory, group_admin

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# The WCAG 2.1 contrast ratio of an element's text over its effective background: the first
# opaque background-color up the tree (white if none), alpha blended.
CONTRAST_JS = """(selector) => {
  const rgba = (s) => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] === 1) break; }
    }
    return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255]);
  };
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const shown = [...document.querySelectorAll(selector)].filter((el) => el.offsetParent !== null);
  return shown.map((el) => {
    const bg = background(el);
    const fg = over(rgba(getComputedStyle(el).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return { text: el.textContent.trim(), ratio: (a + 0.05) / (b + 0.05) };
  });
}"""

# Words of a cell's text split over two lines (a mid-word break): a word's range has one box
# per line it sits on.
BROKEN_WORDS_JS = """(selector) => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


@pytest.fixture
def group():
    group = GroupFactory(name="Sales academy", slug="sales-academy")
    admin = group_admin(group, username="alice")
    integration = IntegrationFactory(
        group=group, status=Integration.Status.ACTIVE, owner=admin, activated_at=timezone.now()
    )
    fields = ["sync_tags", "sync_learning_paths", "client_id", "organization_name"]
    for n in range(6):
        AuditEntry.objects.create(
            integration=integration, actor=admin, action="update", fields=fields,
            toggles={"sync_tags": bool(n % 2), "sync_learning_paths": True},
        )  # fmt: skip
    return group


def open_page(browser, base: str, width: int, path: str):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, base, "alice")
    page.goto(base + path)
    return page


def udemy_url(group) -> str:
    return reverse("integrations:provider", args=[group.slug, "udemy"])


def test_links_and_sidebar_items_have_aa_contrast_on_the_grey_page(live_server, browser, group):
    page = open_page(browser, live_server.url, 1280, udemy_url(group))
    sidebar = page.evaluate(CONTRAST_JS, "[data-testid=settings-nav] a.nav-link")
    links = page.evaluate(CONTRAST_JS, "main a:not(.btn):not(.nav-link)")
    assert len(sidebar) >= 6 and links, (sidebar, links)
    low = [
        (item["text"], round(item["ratio"], 2)) for item in sidebar + links if item["ratio"] < 4.5
    ]
    assert not low, f"under 4.5:1: {low}"


def test_every_history_filter_has_a_label(live_server, browser, group):
    page = open_page(
        browser, live_server.url, 1280, reverse("integrations:history", args=[group.slug])
    )
    for label in ("Kind", "Status", "Trigger"):
        select = page.get_by_test_id("history-filters").get_by_label(label, exact=True)
        expect(select).to_have_count(1)
        assert select.evaluate("el => el.tagName") == "SELECT"


def test_the_first_tab_reaches_the_skip_link_and_enter_moves_to_the_content(
    live_server, browser, group
):
    page = open_page(browser, live_server.url, 390, udemy_url(group))
    skip = page.get_by_test_id("skip-link")
    expect(skip).not_to_be_in_viewport()  # hidden until focused
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.bounding_box()["width"] > 40
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    assert page.evaluate("location.hash") == "#content"
    # The next Tab goes on from the content, not back to the top bar.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_after_a_form_error_focus_is_on_the_first_wrong_field(live_server, browser, group):
    page = open_page(browser, live_server.url, 1280, udemy_url(group))
    form = page.get_by_test_id("integration-form")
    form.get_by_label("Pages fetched at once (optional)").fill("999")  # above the maximum
    form.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("#id_page_concurrency.is-invalid")).to_have_count(1)
    assert page.evaluate("document.activeElement.id") == "id_page_concurrency"
    expect(page.locator("#id_page_concurrency")).to_be_in_viewport()


def test_every_top_bar_link_reads_on_the_dark_bar(live_server, browser, group):
    """The top bar's links (the person's name opening their preferences included) are light on
    the dark bar: 4.5:1 at least."""
    page = open_page(browser, live_server.url, 1280, udemy_url(group))
    items = page.evaluate(CONTRAST_JS, ".navbar a.nav-link")
    names = [item["text"] for item in items]
    assert "alice" in names, names
    low = [(item["text"], round(item["ratio"], 2)) for item in items if item["ratio"] < 4.5]
    assert not low, f"under 4.5:1: {low}"


def test_the_focus_ring_shows_on_the_dark_top_bar(live_server, browser, group):
    page = open_page(browser, live_server.url, 1280, udemy_url(group))
    page.keyboard.press("Tab")  # the skip link
    for _ in range(3):  # the brand, My catalog, Groups
        page.keyboard.press("Tab")
        style = page.evaluate(
            """() => { const el = document.activeElement, s = getComputedStyle(el);
                return {inNavbar: !!el.closest('.navbar'), style: s.outlineStyle,
                        width: parseFloat(s.outlineWidth), text: el.textContent.trim()}; }"""
        )
        assert style["inNavbar"], style
        assert style["style"] not in ("none", "hidden") and style["width"] >= 2, style


def test_on_a_phone_the_audit_trail_wraps_at_spaces(live_server, browser, group):
    page = open_page(browser, live_server.url, 390, udemy_url(group))
    expect(page.locator("[data-testid=audit-trail] tbody tr")).to_have_count(6)
    assert page.evaluate(BROKEN_WORDS_JS, "[data-testid=audit-trail] td") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll


def test_on_a_phone_sync_now_is_near_the_top_of_the_settings_page(live_server, browser, group):
    page = open_page(browser, live_server.url, 390, udemy_url(group))
    for name in ("Sync content now", "Sync statistics now"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["y"] < 1_200, (name, box)
