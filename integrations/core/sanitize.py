"""HTML sanitizing of upstream rich text (course and learning path descriptions), with nh3.

Upstream HTML is untrusted: it is sanitized once, in the mapping, before it is stored, and the
templates may then render it as safe. The allow-list keeps what course descriptions use for
formatting (paragraphs, emphasis, lists, headings, simple tables, links) and drops everything
else: `<script>`/`<style>` with their content, every event handler and `style`/`class` attribute,
images (remote loads would track learners) and any link that is not http, https or mailto.
"""

from __future__ import annotations

import re

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
# Dropped together with their content: their text is code or markup, never prose to keep.
CONTENT_DROPPED_TAGS = frozenset(
    {"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"}
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# nofollow: links come from a third party; noopener/noreferrer: no window.opener, no referrer leak.
LINK_REL = "noopener noreferrer nofollow"

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(CONTENT_DROPPED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
    # A relative link in a Udemy description points at Udemy, not at this site: drop it.
    url_relative="deny",
)

_SURROGATES = re.compile("[\ud800-\udfff]")


def scrub_text(value: str) -> str:
    """Remove what no database or encoder accepts: NUL characters and lone UTF-16 surrogates.

    PostgreSQL rejects NUL in text and jsonb, and a lone surrogate (from a JSON `\\ud800` escape)
    cannot be encoded to UTF-8: either would fail a whole page of the sync, not one item.
    """
    return _SURROGATES.sub("\ufffd", value.replace("\x00", ""))


def sanitize_html(html: str | None) -> str:
    """Sanitized HTML fragment of `html`; "" for None or blank input. Idempotent."""
    if not html or not isinstance(html, str):
        return ""
    return _CLEANER.clean(scrub_text(html)).strip()
