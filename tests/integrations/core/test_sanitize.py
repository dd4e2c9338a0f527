"""Upstream HTML is sanitized before it is stored or rendered (DESIGN.md, "Secrets and access")."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.core.sanitize import LINK_REL, sanitize_html, scrub_text

REL = f'rel="{LINK_REL}"'


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>Hi<script>alert(1)</script></p>", "<p>Hi</p>"),
        ("<SCRIPT SRC=//evil.test/x.js></SCRIPT>text", "text"),
        ("<style>p { display: none }</style><p>x</p>", "<p>x</p>"),
        ("<svg onload=alert(1)><script>alert(1)</script></svg>after", "after"),
        ("<iframe src='https://evil.test'>frame text</iframe>ok", "ok"),
        ("<noscript><p>n</p></noscript>ok", "ok"),
    ],
)
def test_script_and_style_are_removed_with_their_content(dirty: str, clean: str) -> None:
    """No script/style: the tags and their code are gone."""
    assert sanitize_html(dirty) == clean


@pytest.mark.parametrize(
    "dirty",
    [
        '<img src="x" onerror="alert(1)">',
        '<p onclick="alert(1)">x</p>',
        '<a href="https://ok.test" onmouseover="alert(1)">x</a>',
        "<body onload=alert(1)>x",
        '<p ONERROR="alert(1)">x</p>',
    ],
)
def test_event_handlers_are_removed(dirty: str) -> None:
    """No event handlers, whatever the tag or the case."""
    assert not re.search(r"\son[a-z]+\s*=", sanitize_html(dirty), re.IGNORECASE)


def test_images_are_dropped() -> None:
    """No remote loads from a description: an <img> would track learners."""
    assert sanitize_html('<p>a<img src="https://t.test/pixel.gif">b</p>') == "<p>ab</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "ftp://files.test/x",
        "/relative/path",
        "//evil.test/x",
    ],
)
def test_links_other_than_http_https_mailto_lose_their_href(href: str) -> None:
    """<a href> with http/https/mailto only: javascript:, data:, relative … are dropped."""
    cleaned = sanitize_html(f'<a href="{href}">click</a>')
    assert "href" not in cleaned
    assert "click" in cleaned


@pytest.mark.parametrize(
    "href",
    ["https://www.udemy.com/course/x/", "http://example.com/a?b=1", "mailto:ada@example.com"],
)
def test_allowed_links_keep_href_and_get_rel(href: str) -> None:
    """<a href> with http/https/mailto is kept; links get rel="noopener noreferrer nofollow"."""
    cleaned = sanitize_html(f'<a href="{href}">go</a>')
    assert cleaned == f'<a href="{href.replace("&", "&amp;")}" {REL}>go</a>'


def test_upstream_rel_and_target_are_replaced() -> None:
    """rel is always ours (no "opener"); target is not kept."""
    cleaned = sanitize_html('<a href="https://x.test" rel="opener" target="_blank">x</a>')
    assert cleaned == f'<a href="https://x.test" {REL}>x</a>'


def test_style_and_class_attributes_are_removed() -> None:
    """No style attributes (CSS can hide or overlay content) and no foreign classes."""
    cleaned = sanitize_html('<p style="position:fixed;top:0" class="x" id="y">t</p>')
    assert cleaned == "<p>t</p>"


def test_formatting_is_kept() -> None:
    """Formatting of course descriptions survives: paragraphs, emphasis, lists, headings."""
    html = (
        "<h2>What you'll learn</h2>"
        "<p>Learn <strong>Python</strong>, <em>fast</em>, <b>b</b> <i>i</i> <u>u</u><br>now</p>"
        "<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>"
        "<blockquote>quote</blockquote><pre><code>x = 1</code></pre>"
        "<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>"
    )
    assert sanitize_html(html) == html


def test_unknown_tags_keep_their_text() -> None:
    """A tag outside the allow-list is unwrapped, its text kept."""
    assert sanitize_html("<font color=red>red</font> <div>block</div>") == "red block"


def test_comments_are_removed() -> None:
    """Conditional comments are an old injection route: none are kept."""
    assert sanitize_html("a<!--[if IE]><script>x</script><![endif]-->b") == "ab"


@pytest.mark.parametrize("value", [None, "", "   \n"])
def test_empty_input_gives_empty_string(value: str | None) -> None:
    """A missing description is ""."""
    assert sanitize_html(value) == ""


def test_nul_and_lone_surrogates_are_scrubbed() -> None:
    """PostgreSQL rejects NUL and UTF-8 can't encode a lone surrogate: neither reaches storage."""
    assert scrub_text("a\x00b\ud800c") == "ab\ufffdc"
    assert sanitize_html("<p>a\x00b\udfffc</p>") == "<p>ab\ufffdc</p>"


def test_text_is_escaped() -> None:
    """Text that looks like markup after decoding stays text."""
    assert sanitize_html("&lt;script&gt;alert(1)&lt;/script&gt;") == (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )


_FRAGMENTS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<script",
        "<style>x{}</style>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">',
        '<a href="https://ok.test" onclick=x>',
        "</a>",
        "<p>",
        "</p>",
        '<p style="color:red">',
        "<svg/onload=alert(1)>",
        "<!--",
        "-->",
        "<![CDATA[",
        "&lt;",
        "&#x6a;avascript:",
        '"',
        "'",
        ">",
        "<",
        "text",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=8)), max_size=12).map("".join))
def test_sanitized_output_never_contains_active_content(html: str) -> None:
    """Property: whatever the mix, no script tag, event handler, style or javascript: link."""
    cleaned = sanitize_html(html).lower()
    tags = re.findall(r"<[^>]*>", cleaned)  # text may mention "javascript:"; markup may not
    assert not any(t.startswith(("<script", "<style", "<img", "<svg")) for t in tags)
    assert not any(re.search(r"\s(on[a-z]+|style)\s*=", t) for t in tags)
    hrefs = re.findall(r'href="([^"]*)"', cleaned)
    assert all(h.startswith(("http://", "https://", "mailto:")) for h in hrefs)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=8)), max_size=12).map("".join))
def test_sanitizing_is_idempotent(html: str) -> None:
    """Property: sanitizing stored HTML again changes nothing (descriptions are re-sanitized)."""
    once = sanitize_html(html)
    assert sanitize_html(once) == once
