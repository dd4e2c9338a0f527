"""Pictures of the Udemy sandbox: a small deterministic SVG per course, learning path and item.

Udemy serves course images from its CDN (`images` is an object of sizes, `size_480x270`...,
each an absolute URL). The sandbox keeps the same shape but serves the pictures itself, so the
demo shows real images without reaching the Internet:

    /images/course/<size>/<course id>_<digest>.svg     (size: "480x270", "200_H"...)
    /images/learning-path/[<size>/]<path id>.svg
    /images/item/<item id>.svg

The generated data holds these paths; the server prefixes them with its own base URL when it
serves a page (`absolute_course`, `absolute_path`), the way it builds its `next` links, so the
data does not depend on the port it is served on. A picture is a tile of a colour taken from the
id with the initials of the title: the same id always gives the same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from html import escape
from typing import Any

IMAGE_PREFIX = "/images/"
IMAGE_PATH_RE = re.compile(
    r"^/images/(?P<kind>course|learning-path|item)/"
    r"(?:(?P<size>\d{1,4}(?:x\d{1,4}|_H))/)?(?P<id>\d{1,12})(?:_[0-9a-f]{8})?\.svg$"
)
SVG_CONTENT_TYPE = "image/svg+xml"
VIEW_W, VIEW_H = 480, 270  # Udemy's pictures are 16:9
# Words that say nothing about a course's subject: its initials skip them.
_FILLER = {
    "a", "advanced", "an", "and", "ao", "apprendre", "avançado", "become", "beginners",
    "bootcamp", "complet", "complete", "completo", "cours", "course", "curso", "de", "der", "die",
    "do", "du", "einsteiger", "for", "from", "für", "hands", "in", "introduction", "le", "la",
    "learn", "learning", "masterclass", "mastering", "of", "on", "part", "path", "practical",
    "professional", "the", "to", "with", "zero",
}  # fmt: skip
_WORD_RE = re.compile(r"\w+")


def course_image_path(course_id: int, size_key: str, digest: str) -> str:
    """The sandbox path of a course image for an `images` key ("size_480x270")."""
    return f"{IMAGE_PREFIX}course/{size_key.removeprefix('size_')}/{course_id}_{digest}.svg"


def path_image_path(path_id: int, size_key: str | None = None) -> str:
    """The sandbox path of a learning path's thumbnail, of one size or the default one."""
    size = f"{size_key.removeprefix('size_')}/" if size_key else ""
    return f"{IMAGE_PREFIX}learning-path/{size}{path_id}.svg"


def item_image_path(item_id: int) -> str:
    return f"{IMAGE_PREFIX}item/{item_id}.svg"


def initials(title: Any) -> str:
    """Up to two letters for a title: the first letters of its first meaningful words."""
    words = _WORD_RE.findall(title if isinstance(title, str) else "")
    meaningful = [w for w in words if w.lower() not in _FILLER and not w.isdigit()] or words
    latin = [w for w in meaningful if w[0].isascii()] or meaningful  # one script, not a mix
    letters = "".join(word[0] for word in latin[:2]).upper()
    return letters or "U"


def colours(entity_id: int) -> tuple[str, str]:
    """Two shades of one hue, taken from the id (a hash, so that neighbouring ids differ)."""
    digest = hashlib.sha256(str(entity_id).encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    return _hex(hue, 0.42, 0.55), _hex((hue + 0.08) % 1, 0.62, 0.65)


def _hex(hue: float, lightness: float, saturation: float) -> str:
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (red, green, blue))


def size_of(size: str | None) -> tuple[int, int]:
    """Width and height announced by a size segment: "480x270", "200_H" (16:9), none → 480x270."""
    if not size:
        return VIEW_W, VIEW_H
    if size.endswith("_H"):
        height = int(size[:-2])
        return height * 16 // 9, height
    width, height = size.split("x")
    return int(width), int(height)


def render_svg(*, entity_id: int, title: Any, size: str | None = None) -> bytes:
    """The picture of one course, path or item: deterministic from its id and title."""
    width, height = size_of(size)
    dark, light = colours(entity_id)
    label = escape(initials(title))
    name = escape(title if isinstance(title, str) else "", quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {VIEW_W} {VIEW_H}" preserveAspectRatio="xMidYMid slice" role="img" '
        f'aria-label="{name}">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{dark}"/><stop offset="1" stop-color="{light}"/>'
        "</linearGradient></defs>"
        f'<rect width="{VIEW_W}" height="{VIEW_H}" fill="url(#g)"/>'
        '<circle cx="410" cy="40" r="130" fill="#fff" fill-opacity=".12"/>'
        '<circle cx="40" cy="260" r="90" fill="#fff" fill-opacity=".08"/>'
        f'<text x="{VIEW_W // 2}" y="{VIEW_H // 2}" dy=".35em" text-anchor="middle" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="112" '
        f'font-weight="700" fill="#fff" fill-opacity=".92">{label}</text></svg>'
    ).encode()


# --------------------------------------------------------------------------- serving


def _absolute(value: Any, base_url: str) -> Any:
    if isinstance(value, str) and value.startswith(IMAGE_PREFIX):
        return base_url + value
    return value


def _absolute_thumbnail(value: Any, base_url: str) -> Any:
    if isinstance(value, dict):
        return {key: _absolute(url, base_url) for key, url in value.items()}
    return _absolute(value, base_url)


def absolute_course(course: Any, base_url: str) -> Any:
    """The course as served: its image paths made absolute URLs on `base_url` (a copy)."""
    images = course.get("images") if isinstance(course, dict) else None
    if not isinstance(images, dict):
        return course
    return {**course, "images": _absolute_thumbnail(images, base_url)}


def absolute_path(path: Any, base_url: str) -> Any:
    """The learning path as served: its thumbnails (its own, its items') made absolute."""
    if not isinstance(path, dict):
        return path
    served = dict(path)
    if "thumbnail" in path:
        served["thumbnail"] = _absolute_thumbnail(path["thumbnail"], base_url)
    sections = path.get("sections")
    if isinstance(sections, list):
        served["sections"] = [_absolute_section(section, base_url) for section in sections]
    return served


def _absolute_section(section: Any, base_url: str) -> Any:
    items = section.get("items") if isinstance(section, dict) else None
    if not isinstance(items, list):
        return section
    return {
        **section,
        "items": [
            {**item, "thumbnail": _absolute_thumbnail(item.get("thumbnail"), base_url)}
            if isinstance(item, dict) and "thumbnail" in item
            else item
            for item in items
        ],
    }
