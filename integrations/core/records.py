"""Provider-neutral records: what a provider's mapping hands to the sync services.

Records are frozen dataclasses of plain values (str, int, float, tuples, aware UTC datetimes) so
they hash, compare and serialize the same way in every process. Each one carries a `fingerprint`
(SHA-256 of a canonical JSON of all its fields, computed once per record): the sync services
compare it with the stored one and skip unchanged rows, which is how "re-running a sync with
unchanged upstream data writes nothing" holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache, cached_property
from typing import Any

from . import jsoncodec


def _iso(value: Any) -> str:
    """`json.dumps`'s hook for what it cannot write itself: a datetime, as ISO 8601 (tuples
    and lists it writes as arrays already)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical JSON")


@cache
def _sorted_names(cls: type) -> tuple[str, ...]:
    return tuple(sorted(f.name for f in fields(cls)))


@cache
def _float_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of `cls` that hold a float (or None); None when a float may hide deeper (in
    a tuple, say), where no check below looks."""
    names = []
    for f in fields(cls):
        kind = str(f.type).replace(" ", "")
        if kind in ("float", "float|None"):
            names.append(f.name)
        elif "float" in kind:
            return None
    return tuple(names)


def _same_text(value: float | None) -> bool:
    """Whether orjson writes this float as `json` does (`repr`): zero, and the magnitudes
    `repr` writes without an exponent (the property tests check the bytes); not a NaN, an
    infinity nor 1e-05 (`repr`'s exponent form, written 0.00001 by orjson)."""
    return value is None or value == 0 or 1e-4 <= abs(value) < 1e15


def _fingerprint(record: Any) -> str:
    # Keys in sorted order and fixed separators: byte-identical output for equal records,
    # whatever the run. The bytes are `json.dumps`'s: orjson (`jsoncodec.dumps`) writes the
    # same text for strings, integers, tuples, aware datetimes and the floats `_same_text`
    # accepts, at a fraction of the standard library's cost (a fingerprint per record is on the
    # sync's hot path); a record with another float goes through `json` alone.
    cls = type(record)
    data = {name: getattr(record, name) for name in _sorted_names(cls)}
    floats = _float_fields(cls)
    if floats is None or not all(_same_text(data[name]) for name in floats):
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_iso)
    else:
        text = jsoncodec.dumps(data, default=_iso)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CourseRecord:
    """A course or learning path of the provider's catalog, ready to upsert.

    The database key is (integration, kind, external_id): a learning path and a course may share
    a numeric id upstream, so `kind` is part of the identity.
    """

    kind: str  # "course" | "learning_path"
    external_id: str
    title: str
    name: str
    description: str  # sanitized HTML
    image: str  # absolute http(s) URL or ""
    duration_minutes: int | None
    authors: tuple[str, ...]
    lang: str
    tag_names: tuple[str, ...]  # empty when tags sync is disabled
    video_url: str
    launch_url: str
    modified_at: datetime | None  # aware, UTC

    @cached_property
    def fingerprint(self) -> str:
        return _fingerprint(self)


@dataclass(frozen=True)
class StatRecord:
    """One learner x course statistic row, ready to match by e-mail and apply to an attempt."""

    external_course_id: str
    email: str  # as given upstream, stripped
    email_key: str  # lower-cased: learners are matched case-insensitively
    is_anonymized: bool  # "Anonymized User" rows (privacy settings) or no address at all
    first_activity: datetime | None
    last_activity: datetime | None
    completed_at: datetime | None
    progress: float  # 0-100
    time_spent_ms: int

    @cached_property
    def fingerprint(self) -> str:
        return _fingerprint(self)


class MappingError(Exception):
    """One upstream item could not be mapped; the sync records it and goes on with the others.

    Categories: "invalid_item" (missing id, wrong type), "invalid_date" (unparsable date),
    "invalid_value" (a number out of range: negative minutes, ratio above 100 …).
    """

    def __init__(self, external_id: str, category: str, message: str, excerpt: str = "") -> None:
        super().__init__(f"{category}: {message}" + (f" (id {external_id})" if external_id else ""))
        self.external_id = external_id
        self.category = category
        self.message = message
        self.excerpt = excerpt

    def __reduce__(self) -> tuple[type[MappingError], tuple[str, str, str, str]]:
        # Exceptions pickle through `args`; keep all four fields across process boundaries.
        return (type(self), (self.external_id, self.category, self.message, self.excerpt))
