"""URLs and media of the Udemy mapping: launch URLs, images, promo videos, learning path content.

Pure functions (see `mapping.py`): a value that is not a usable http(s) URL becomes "".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel

from integrations.core.sanitize import sanitize_html, scrub_text

from .payloads import PathSection, UdemyLearningPath
from .values import MAX_URL, MAX_VIDEO_URL

_AREA_RE = re.compile(r"(\d{1,5})x(\d{1,5})")
_HEIGHT_RE = re.compile(r"(\d{1,5})_h\b", re.IGNORECASE)
_LEADING_DIGITS_RE = re.compile(r"^\s*(\d{1,6})")
# What `str.isspace()` or a control character would match: one C-level scan of the URL, not a
# Python test per character (a course carries about twenty URLs).
_NOT_IN_URL_RE = re.compile(r"[\x00-\x1f\s]")
# The usual shape of a URL in a Udemy payload: printable ASCII, http(s), a plain host name and
# maybe a port (no user or brackets). Such a URL is valid as it is (what `urlsplit` would say,
# and nothing for `scrub_text` to remove); any other one takes the full check.
_PLAIN_HTTP_URL_RE = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][\x21-\x7e]*)?", re.IGNORECASE
)

T = TypeVar("T")


def _launch_url(value: Any, site_url: str) -> str:
    """An absolute URL as is; a site-relative one ("/course/x/") joined to the Udemy site."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return _http_url(urljoin(site_url, value)) if site_url else ""
    return _http_url(value)


def _http_url(value: Any, max_length: int = MAX_URL) -> str:
    """`value` if it is an absolute http(s) URL that fits the column, else ""."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or len(url) > max_length:
        return ""
    if _PLAIN_HTTP_URL_RE.fullmatch(url):
        return url
    if _NOT_IN_URL_RE.search(url):
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    return scrub_text(url)


def _image_area(key: str) -> int:
    """Pixel area announced by an image size key, for ranking.

    "size_750x422" → 750 x 422; "size_200_H" (height only) → 200 x 200 x 16 / 9, since Udemy
    images are 16:9; a key without a size ranks lowest (0) but stays usable.
    """
    if match := _AREA_RE.search(key):
        return int(match[1]) * int(match[2])
    if match := _HEIGHT_RE.search(key):
        return int(match[1]) ** 2 * 16 // 9
    return 0


def pick_image(images: Mapping[str, Any] | None) -> str:
    """360Learning: image → the largest size available; non-URL values are ignored.

    Ties are broken by key so that the choice never depends on the payload's key order.
    """
    if not isinstance(images, Mapping):
        return ""
    # Largest first, and only until one URL is valid: a course carries about a dozen sizes and
    # validating each URL is most of the cost of mapping a course.
    for key in _largest_first(tuple(images)):
        if url := _http_url(images[key]):
            return url
    return ""


@lru_cache(maxsize=256)
def _largest_first(keys: tuple[Any, ...]) -> tuple[Any, ...]:
    """The size keys, largest first (ties by key, descending): every course of a catalog has
    the same dozen keys, ranked once."""
    return tuple(sorted(keys, key=lambda key: (_image_area(str(key)), str(key)), reverse=True))


def _thumbnail(value: Any) -> str:
    """360Learning: thumbnail → image; a URL string or a dict of sizes (then the largest)."""
    return pick_image(value) if isinstance(value, Mapping) else _http_url(value)


def _video_rank(label: Any) -> int:
    """A rendition's height from its label ("720", 1080, "480p"); "Auto" and others rank -1."""
    if isinstance(label, bool):
        return -1
    if isinstance(label, int | float):
        return int(label) if math.isfinite(label) and 0 <= label < 10**6 else -1
    if isinstance(label, str) and (match := _LEADING_DIGITS_RE.match(label)):
        return int(match[1])
    return -1


def _file_and_label(entry: Any) -> tuple[Any, Any] | None:
    """A rendition's `file` and `label`, read off a payload model or a plain mapping."""
    if isinstance(entry, BaseModel):
        return getattr(entry, "file", None), getattr(entry, "label", None)
    if isinstance(entry, Mapping):
        return entry.get("file"), entry.get("label")
    return None


def pick_video(promo: Any) -> str:
    """360Learning: promo_video_url → the highest quality video URL available.

    Highest = largest numeric `label`; non-numeric labels ("Auto", an adaptive stream) rank
    lowest; entries without a usable `file` URL are skipped; on a tie the first entry wins.
    """
    if isinstance(promo, str):
        return _http_url(promo, MAX_VIDEO_URL)
    if not isinstance(promo, list | tuple):
        return ""
    ranked = []
    for index, entry in enumerate(promo):
        if (fields := _file_and_label(entry)) is not None:
            ranked.append((-_video_rank(fields[1]), index, fields[0]))
    # Best first, then only until one URL is valid (as for images: validating is the cost).
    for _, _, file in sorted(ranked, key=lambda item: item[:2]):
        if url := _http_url(file, MAX_VIDEO_URL):
            return url
    return ""


# --------------------------------------------------------------------------- learning paths


def _order_key(index: int, order: int | float | None) -> tuple[bool, float, int]:
    """Ascending `order`; missing (or non-finite) orders last; ties keep the upstream order."""
    usable = order is not None and math.isfinite(order)
    return (not usable, float(order) if usable else 0.0, index)


def _ordered(entries: list[T] | None) -> list[T]:
    indexed = list(enumerate(entries or ()))
    indexed.sort(key=lambda pair: _order_key(pair[0], getattr(pair[1], "order", None)))
    return [entry for _, entry in indexed]


def _section_html(section: PathSection) -> str:
    lines = []
    for item in _ordered(section.items):
        url = _http_url(item.url)
        text = html.escape(scrub_text(item.title or "").strip() or url)
        if url:
            lines.append(f'<li><a href="{html.escape(url)}">{text}</a></li>')
        elif text:
            lines.append(f"<li>{text}</li>")
    title = html.escape(scrub_text(section.title or "").strip())
    heading = f"<h3>{title}</h3>" if title else ""
    return heading + (f"<ul>{''.join(lines)}</ul>" if lines else "")


def learning_path_description(path: UdemyLearningPath) -> str:
    """360Learning: the path's own description, then its content as links.

    Sections in `order`, each an <h3> with its title and a <ul> of its items in `order`; an item
    links to its `url` when that is an http(s) URL. The whole is sanitized (links get rel=…).
    """
    own = sanitize_html(path.description)
    content = "".join(_section_html(section) for section in _ordered(path.sections))
    return sanitize_html(own + content)
