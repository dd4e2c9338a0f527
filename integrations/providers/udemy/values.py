"""Checked field values of the Udemy mapping: ids, titles, numbers, dates, texts, language.

Each helper returns a value that fits its catalog column or raises `MappingError` naming the
field (see `mapping.py`). Pure functions: no I/O and no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from integrations.core.records import MappingError
from integrations.core.sanitize import scrub_text

from .payloads import DATE_FIELDS, NamedRef

FALLBACK_LANG = "en"  # when neither the item nor the owner gives a usable language

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

M = TypeVar("M", bound=BaseModel)


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
    """360Learning: the title is kept verbatim (whitespace stripped only); it is required."""
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
    """360Learning: estimated_content_length → course duration, in whole minutes."""
    if value is None:
        return None
    field = "estimated_content_length"
    value = _finite(value, field, external_id)
    if value < 0 or value > MAX_MINUTES:
        raise _out_of_range(field, value, external_id, f"between 0 and {MAX_MINUTES} minutes")
    return _round_half_up(value)


def _ratio(value: int | float | None, external_id: str) -> float:
    """360Learning: completion_ratio → progress. The value as reported (finite, not negative);
    its scale (0-1 or 0-100) is decided once per report from all its values (`scale.py`)."""
    if value is None:
        return 0.0
    field = "completion_ratio"
    value = _finite(value, field, external_id)
    if value < 0:
        raise _out_of_range(field, value, external_id, "a number from 0")
    return float(value)


def _time_spent_ms(value: int | float | None, external_id: str) -> int:
    """360Learning: num_video_consumed_minutes x 60 x 1000 → time spent in milliseconds."""
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
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10 and _DATE_ONLY_RE.match(text):
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:  # Udemy reports are in UTC when no offset is given
            return parsed.replace(tzinfo=UTC)
        return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
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
    """360Learning: instructors (courses) / editors.display_name (paths) → authors."""
    return _unique(_label(v) for v in values or ())


def _tags(values: Iterable[str | NamedRef] | None) -> tuple[str, ...]:
    """360Learning: categories → tag names (only when tags sync is enabled: the caller decides)."""
    return _unique(_label(v)[:MAX_TAG] for v in values or ())


# --------------------------------------------------------------------------- language


def normalize_lang(locale: str | None, default: str) -> str:
    """360Learning: locale.locale → lang; no usable locale → `default` (the owner's language).

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
