"""Udemy items → provider-neutral records: the seed's mapping tables, as pure functions.

Reference: 360Learning, "Synchronize Udemy content with 360Learning" (the course, learning path
and statistics tables) and FACTS.md for the payload shapes. No I/O and no database here.

Every public `map_*` function either returns a record or raises `MappingError`, whatever it is
given: one bad item must become one `SyncError`, never abort a sync run. Categories:
"invalid_item" (not an object, missing id, wrong type), "invalid_date", "invalid_value".
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ValidationError

from integrations.core.records import CourseRecord, MappingError, StatRecord
from integrations.core.sanitize import sanitize_html, scrub_text

from .payloads import (
    DATE_FIELDS,
    NamedRef,
    PathSection,
    UdemyCourse,
    UdemyCourseActivity,
    UdemyLearningPath,
)

logger = logging.getLogger(__name__)

PATH_TITLE_PREFIX = "[Learning Path] "
PATH_LANG = "en"  # seed: learning paths have no language upstream, "en" per default
FALLBACK_LANG = "en"  # when neither the item nor the owner gives a usable language
ANONYMIZED_EMAIL = "anonymized user"
UNEXPECTED = "unexpected mapping failure"

# Limits of the catalog columns: a longer value would fail the whole page's INSERT.
MAX_ID_DIGITS = 64
MAX_TITLE = 500
MAX_TAG = 200
MAX_EMAIL = 254
MAX_URL = 1000
MAX_VIDEO_URL = 2000
MAX_MINUTES = 2**31 - 1  # PositiveIntegerField
MAX_MS = 2**63 - 1  # BigIntegerField
EXCERPT = 200

# Regional variants the platform distinguishes; every other locale keeps its language only.
REGIONAL_LANGS = {
    "pt_br": "pt-BR",
    "zh_cn": "zh-CN",
    "zh_hans": "zh-CN",
    "zh_tw": "zh-TW",
    "zh_hant": "zh-TW",
}
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AREA_RE = re.compile(r"(\d{1,5})x(\d{1,5})")
_HEIGHT_RE = re.compile(r"(\d{1,5})_h\b", re.IGNORECASE)
_LEADING_DIGITS_RE = re.compile(r"^\s*(\d{1,6})")

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


# --------------------------------------------------------------------------- public map functions


def map_course(
    raw: Mapping[str, Any], *, sync_tags: bool, default_lang: str, site_url: str = ""
) -> CourseRecord:
    """One item of the course list → a `CourseRecord` (seed table "Udemy courses").

    `site_url` (e.g. https://acme.udemy.com) completes a relative `url` such as "/course/x/".
    """
    return _guarded(raw, "id", lambda: _map_course(raw, sync_tags, default_lang, site_url))


def map_learning_path(
    raw: Mapping[str, Any], *, sync_tags: bool, site_url: str = ""
) -> CourseRecord:
    """One public learning path → a course record (seed table "Udemy learning paths")."""
    return _guarded(raw, "id", lambda: _map_learning_path(raw, sync_tags, site_url))


def map_activity(raw: Mapping[str, Any]) -> StatRecord:
    """One user-course-activity row → a `StatRecord` (seed table "Statistics")."""
    return _guarded(raw, "course_id", lambda: _map_activity(raw))


def _guarded(raw: Any, id_key: str, build: Callable[[], R]) -> R:
    """Run `build`; anything but a `MappingError` is a bug, still reported as a bad item.

    The property tests prove no input reaches the fallback; it stays so that a surprise in
    production costs one item and a log line, not the whole run.
    """
    try:
        return build()
    except MappingError:
        raise
    except Exception as exc:
        logger.exception("Mapping a Udemy item failed unexpectedly")
        raise MappingError(
            _raw_id(raw, id_key), "invalid_item", f"{UNEXPECTED}: {type(exc).__name__}"
        ) from exc


def _map_course(raw: Any, sync_tags: bool, default_lang: str, site_url: str) -> CourseRecord:
    item = _validate(UdemyCourse, raw, "id")
    external_id = _external_id(item.id, "id")
    title = _title(item.title, external_id)
    return CourseRecord(
        kind="course",
        external_id=external_id,
        title=title,
        name=title,
        description=sanitize_html(item.description),
        image=pick_image(item.images),
        duration_minutes=_duration(item.estimated_content_length, external_id),
        authors=_labels(item.instructors),
        lang=normalize_lang(_locale_code(item.locale), default_lang),
        tag_names=_tags(item.categories) if sync_tags else (),
        video_url=pick_video(item.promo_video_url),
        launch_url=_launch_url(item.url, site_url),
        modified_at=_datetime(item.last_update_date, "last_update_date", external_id),
    )


def _map_learning_path(raw: Any, sync_tags: bool, site_url: str) -> CourseRecord:
    item = _validate(UdemyLearningPath, raw, "id")
    external_id = _external_id(item.id, "id")
    title = _title(item.title, external_id, prefix=PATH_TITLE_PREFIX)
    return CourseRecord(
        kind="learning_path",
        external_id=external_id,
        title=title,
        name=title,
        description=learning_path_description(item),
        image=_thumbnail(item.thumbnail),
        duration_minutes=_duration(item.estimated_content_length, external_id),
        authors=_labels(item.editors),
        lang=PATH_LANG,
        tag_names=_tags(item.categories) if sync_tags else (),
        video_url="",
        launch_url=_launch_url(item.url, site_url),
        modified_at=_datetime(item.last_modified, "last_modified", external_id),
    )


def _map_activity(raw: Any) -> StatRecord:
    item = _validate(UdemyCourseActivity, raw, "course_id")
    course_id = _external_id(item.course_id, "course_id")
    email = _email(item.user_email, course_id)
    # Seed: course_start_date, or course_enroll_date when the start is not defined.
    first = _datetime(item.course_start_date, "course_start_date", course_id)
    if first is None:
        first = _datetime(item.course_enroll_date, "course_enroll_date", course_id)
    return StatRecord(
        external_course_id=course_id,
        email=email,
        email_key=email.lower(),
        is_anonymized=not email or email.casefold() == ANONYMIZED_EMAIL,
        first_activity=first,
        last_activity=_datetime(
            item.course_last_accessed_date, "course_last_accessed_date", course_id
        ),
        completed_at=_datetime(item.course_completion_date, "course_completion_date", course_id),
        progress=_progress(item.completion_ratio, course_id),
        time_spent_ms=_time_spent_ms(item.num_video_consumed_minutes, course_id),
    )


# --------------------------------------------------------------------------- validation


def _validate(model: type[M], raw: Any, id_key: str) -> M:
    """The payload model of `raw`, or a `MappingError` naming the first offending field."""
    if not isinstance(raw, Mapping):
        raise MappingError("", "invalid_item", f"expected an object, got {type(raw).__name__}")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise _validation_error(exc, raw, id_key) from None


def _validation_error(exc: ValidationError, raw: Mapping, id_key: str) -> MappingError:
    """Report the first offending field; a union (`int | str`) fails once per member."""
    errors = exc.errors(include_url=False)
    error = errors[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    category = "invalid_date" if field in DATE_FIELDS else "invalid_item"
    value = error.get("input")
    if error["type"] == "missing":
        return MappingError(_raw_id(raw, id_key), category, f"{field} is required")
    if sum(1 for e in errors if e["loc"][:1] == error["loc"][:1]) > 1:
        message = f"{field}: unexpected {type(value).__name__}"
        return MappingError(_raw_id(raw, id_key), category, message, _excerpt(field, value))
    where = ".".join(str(part) for part in error["loc"])
    message = f"{where}: {error['msg']}"
    return MappingError(_raw_id(raw, id_key), category, message, _excerpt(where, value))


def _raw_id(raw: Any, key: str) -> str:
    """The item's id as given, for error reports, without trusting its type."""
    value = raw.get(key) if isinstance(raw, Mapping) else None
    if isinstance(value, bool):
        return ""
    if isinstance(value, int) and abs(value) < 10**MAX_ID_DIGITS:
        return str(value)
    return scrub_text(value)[:100] if isinstance(value, str) else ""


def _excerpt(field: str, value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a huge int's repr raises ValueError; an excerpt is best effort
        text = f"<{type(value).__name__}>"
    return scrub_text(f"{field}={text}")[:EXCERPT]


def _external_id(value: int | str, field: str) -> str:
    """A non-negative integer id as its canonical decimal string ("007" and 7 → "7")."""
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
            raise MappingError(
                _clip(value), "invalid_item", f"{field} must be a number", _excerpt(field, value)
            )
        value = int(text)
    if value < 0 or value >= 10**MAX_ID_DIGITS:
        raise MappingError(
            "", "invalid_item", f"{field} must be a positive number", _excerpt(field, value)
        )
    return str(value)


def _clip(text: str) -> str:
    return scrub_text(text)[:100]


def _title(value: str, external_id: str, prefix: str = "") -> str:
    """Seed: the title is kept verbatim (whitespace stripped only); it is required."""
    title = scrub_text(value).strip()
    if not title:
        raise MappingError(external_id, "invalid_item", "title is empty")
    title = prefix + title
    if len(title) > MAX_TITLE:
        raise MappingError(
            external_id, "invalid_value", f"title is longer than {MAX_TITLE} characters"
        )
    return title


# --------------------------------------------------------------------------- numbers


def _finite(value: int | float, field: str, external_id: str) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise MappingError(
            external_id, "invalid_value", f"{field} is not a finite number", f"{field}={value!r}"
        )
    return value


def _out_of_range(field: str, value: Any, external_id: str, expected: str) -> MappingError:
    return MappingError(
        external_id, "invalid_value", f"{field} must be {expected}", _excerpt(field, value)
    )


def _round_half_up(value: int | float) -> int:
    """Half-up rounding of a non-negative number (Python's round() would round 2.5 to 2)."""
    return value if isinstance(value, int) else math.floor(value + 0.5)


def _duration(value: int | float | None, external_id: str) -> int | None:
    """Seed: estimated_content_length → course duration, in whole minutes."""
    if value is None:
        return None
    field = "estimated_content_length"
    value = _finite(value, field, external_id)
    if value < 0 or value > MAX_MINUTES:
        raise _out_of_range(field, value, external_id, f"between 0 and {MAX_MINUTES} minutes")
    return _round_half_up(value)


def _progress(value: int | float | None, external_id: str) -> float:
    """Seed: completion_ratio → progress, stored 0-100.

    The upstream scale (0-1 or 0-100) is unconfirmed (FACTS.md), so both are accepted: a
    non-integer value below 1 (0.35) is a fraction → 35 %; any integer value, including 0 and 1
    (and 1.0), is already a percentage → 0 % and 1 %. The cost of this choice is that a fraction
    scale's "1.0" (complete) reads as 1 %; the completion date still marks it completed.
    """
    if value is None:
        return 0.0
    field = "completion_ratio"
    value = _finite(value, field, external_id)
    if value < 0 or value > 100:
        raise _out_of_range(field, value, external_id, "between 0 and 100")
    if isinstance(value, float) and not value.is_integer() and value < 1:
        value = value * 100
    # Rounded: 0.29 * 100 is 28.999999999999996, and the fingerprint must not flicker.
    return round(float(value), 4)


def _time_spent_ms(value: int | float | None, external_id: str) -> int:
    """Seed: num_video_consumed_minutes x 60 x 1000 → time spent in milliseconds."""
    if value is None:
        return 0
    field = "num_video_consumed_minutes"
    value = _finite(value, field, external_id)
    if value < 0 or value > MAX_MS // 60_000:
        raise _out_of_range(field, value, external_id, "a non-negative number of minutes")
    return _round_half_up(value * 60 * 1000)


# --------------------------------------------------------------------------- dates


def _datetime(value: str | None, field: str, external_id: str) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (Z, offset, naive = UTC, or date only = midnight)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if _DATE_ONLY_RE.match(text):
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:  # Udemy reports are in UTC when no offset is given
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise MappingError(
            external_id, "invalid_date", f"{field} is not an ISO 8601 date", _excerpt(field, value)
        ) from None


# --------------------------------------------------------------------------- texts and lists


def _email(value: str, external_id: str) -> str:
    email = scrub_text(value).strip()
    if len(email) > MAX_EMAIL:
        raise MappingError(
            external_id, "invalid_value", f"user_email is longer than {MAX_EMAIL} characters"
        )
    return email


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """Stripped, non-empty, first occurrence kept, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        text = scrub_text(value).strip()
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def _label(value: str | NamedRef) -> str:
    return value if isinstance(value, str) else value.label


def _labels(values: Iterable[str | NamedRef] | None) -> tuple[str, ...]:
    """Seed: instructors (courses) / editors.display_name (paths) → authors."""
    return _unique(_label(v) for v in values or ())


def _tags(values: Iterable[str | NamedRef] | None) -> tuple[str, ...]:
    """Seed: categories → tag names (only when tags sync is enabled: the caller decides)."""
    return _unique(_label(v)[:MAX_TAG] for v in values or ())


# --------------------------------------------------------------------------- language


def normalize_lang(locale: str | None, default: str) -> str:
    """Seed: locale.locale → lang; no usable locale → `default` (the owner's language).

    "en_US" → "en", "fr_FR" → "fr"; only the regional variants of `REGIONAL_LANGS` keep their
    region ("pt_BR" → "pt-BR"). Never empty: a bad default falls back to "en".
    """
    return _lang_code(locale) or _lang_code(default) or FALLBACK_LANG


def _lang_code(locale: Any) -> str:
    if not isinstance(locale, str):
        return ""
    # "en_US.UTF-8@euro" → "en_us"; BCP 47 "pt-BR" and POSIX "pt_BR" are the same locale.
    text = re.split(r"[.@]", locale.strip(), maxsplit=1)[0].replace("-", "_").lower()
    if text in REGIONAL_LANGS:
        return REGIONAL_LANGS[text]
    language = text.split("_", 1)[0]
    return language if _LANG_RE.match(language) else ""


def _locale_code(locale: Any) -> str | None:
    """`{"locale": "ja_JP"}` (documented) or a bare "ja_JP" string (tolerated)."""
    return locale if isinstance(locale, str) or locale is None else locale.locale


# --------------------------------------------------------------------------- URLs and media


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
    if not url or len(url) > max_length or any(c.isspace() or ord(c) < 32 for c in url):
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
    """Seed: image → the largest size available; non-URL values are ignored.

    Ties are broken by key so that the choice never depends on the payload's key order.
    """
    if not isinstance(images, Mapping):
        return ""
    # Largest first, and only until one URL is valid: a course carries about a dozen sizes and
    # validating each URL is most of the cost of mapping a course.
    ranked = sorted(images.items(), key=lambda kv: (_image_area(str(kv[0])), str(kv[0])))
    for _, value in reversed(ranked):
        if url := _http_url(value):
            return url
    return ""


def _thumbnail(value: Any) -> str:
    """Seed: thumbnail → image; a URL string or a dict of sizes (then the largest)."""
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


def _as_mapping(entry: Any) -> Mapping[str, Any] | None:
    if isinstance(entry, BaseModel):
        return entry.model_dump()
    return entry if isinstance(entry, Mapping) else None


def pick_video(promo: Any) -> str:
    """Seed: promo_video_url → the highest quality video URL available.

    Highest = largest numeric `label`; non-numeric labels ("Auto", an adaptive stream) rank
    lowest; entries without a usable `file` URL are skipped; on a tie the first entry wins.
    """
    if isinstance(promo, str):
        return _http_url(promo, MAX_VIDEO_URL)
    if not isinstance(promo, list | tuple):
        return ""
    best, best_rank = "", -2
    for entry in promo:
        fields = _as_mapping(entry)
        url = _http_url(fields.get("file"), MAX_VIDEO_URL) if fields else ""
        rank = _video_rank(fields.get("label")) if fields else -2
        if url and rank > best_rank:
            best, best_rank = url, rank
    return best


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
    """Seed: the path's own description, then its content as links.

    Sections in `order`, each an <h3> with its title and a <ul> of its items in `order`; an item
    links to its `url` when that is an http(s) URL. The whole is sanitized (links get rel=…).
    """
    own = sanitize_html(path.description)
    content = "".join(_section_html(section) for section in _ordered(path.sections))
    return sanitize_html(own + content)
