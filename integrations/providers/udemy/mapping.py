"""Udemy items → provider-neutral records: 360Learning's mapping tables, as pure functions.

Reference: 360Learning help page (Synchronize Udemy content) for the course, learning path and
statistics tables, and the Udemy Business API guide for the payload shapes. No I/O and no
database here; the checked field values are in `values.py`, URLs and media in `media.py`.

Every public `map_*` function either returns a record or raises `MappingError`, whatever it is
given: one bad item must become one `SyncError`, never abort a sync run. Categories:
"invalid_item" (not an object, missing id, wrong type), "invalid_date", "invalid_value".
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

from integrations.core import hosts as core_hosts
from integrations.core import records as core_records
from integrations.core import sanitize
from integrations.core.errors import INTERRUPTS
from integrations.core.records import CourseRecord, MappingError, StatRecord
from integrations.core.sanitize import sanitize_html

from ..base import StatRow
from . import launch, media, payloads, values
from . import scale as ratio_scale
from .media import _launch_url, _thumbnail, learning_path_description, pick_image, pick_video
from .payloads import UdemyCourse, UdemyCourseActivity, UdemyLearningPath
from .values import (
    MAX_ID_DIGITS,
    MAX_MINUTES,
    MAX_TITLE,
    _datetime,
    _duration,
    _email,
    _external_id,
    _labels,
    _locale_code,
    _ratio,
    _raw_id,
    _tags,
    _time_spent_ms,
    _title,
    _validate,
    normalize_lang,
)

__all__ = [
    "MAX_MINUTES",
    "MAX_TITLE",
    "PATH_TITLE_PREFIX",
    "UNEXPECTED",
    "learning_path_description",
    "map_activity",
    "map_activity_row",
    "map_course",
    "map_learning_path",
    "mapping_revision",
    "normalize_lang",
    "pick_image",
    "pick_video",
    "raw_item_id",
]

logger = logging.getLogger(__name__)

PATH_TITLE_PREFIX = "[Learning Path] "
PATH_LANG = "en"  # 360Learning: learning paths have no language upstream, "en" per default
ANONYMIZED_EMAIL = "anonymized user"
UNEXPECTED = "unexpected mapping failure"

R = TypeVar("R")


# --------------------------------------------------------------------------- public map functions


def map_course(
    raw: Mapping[str, Any],
    *,
    sync_tags: bool,
    default_lang: str,
    site_url: str = "",
    launch_origins: Sequence[str] = (),
) -> CourseRecord:
    """One item of the course list → a `CourseRecord` (360Learning table "Udemy courses").

    `site_url` (e.g. https://acme.udemy.com) completes a relative `url` such as "/course/x/".
    `launch_origins` (`launch.launch_origins`), when given, are the only sites START may send a
    learner to: a `url` elsewhere makes the item a bad item ("invalid_value").
    """
    return _guarded(
        raw, "id", lambda: _map_course(raw, sync_tags, default_lang, site_url, launch_origins)
    )


def map_learning_path(
    raw: Mapping[str, Any],
    *,
    sync_tags: bool,
    site_url: str = "",
    launch_origins: Sequence[str] = (),
) -> CourseRecord:
    """One public learning path → a course record (360Learning table "Udemy learning paths")."""
    return _guarded(raw, "id", lambda: _map_learning_path(raw, sync_tags, site_url, launch_origins))


def map_activity_row(raw: Mapping[str, Any]) -> StatRow:
    """One user-course-activity row → a `StatRow` (360Learning table "Statistics"): its record
    reads completion_ratio on a 0-100 scale until the report's scale is decided (`scale.py`)."""
    return _guarded(raw, "course_id", lambda: _map_activity(raw))


def map_activity(raw: Mapping[str, Any], *, scale: str = ratio_scale.PERCENT) -> StatRecord:
    """One row → its `StatRecord` on a known completion_ratio scale (above 100 % is clamped)."""
    return ratio_scale.apply(map_activity_row(raw), scale)[0]


def raw_item_id(raw: Any, key: str = "id") -> str | None:
    """The external id `map_*` gives the item, read without mapping it; None when the id is not
    a plain one (then the item is mapped, and the mapping reports it)."""
    value = raw.get(key) if isinstance(raw, Mapping) else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
            return str(int(text))
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**MAX_ID_DIGITS:
        return str(value)
    return None


@cache
def _code_revision() -> str:
    """The mapping's code: these modules and the HTML sanitizer's version. A deployment that
    changes any of them maps every item again at its next sync, unchanged upstream or not."""
    digest = hashlib.sha256(version("nh3").encode())
    for module in (
        core_records,
        core_hosts,
        sanitize,
        payloads,
        values,
        media,
        launch,
        ratio_scale,
    ):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def mapping_revision(**options: Any) -> str:
    """What a course or path record depends on besides its raw item: the mapping's code and
    options (`sync_tags`, the default language, the site URL)."""
    text = ",".join(f"{name}={options[name]!r}" for name in sorted(options))
    return hashlib.sha256(f"{_code_revision()}|{text}".encode()).hexdigest()


def _guarded(raw: Any, id_key: str, build: Callable[[], R]) -> R:
    """Run `build`; anything but a `MappingError` is a bug, still reported as a bad item.

    The property tests prove no input reaches the fallback; it stays so that a surprise in
    production costs one item and a log line, not the whole run.
    """
    try:
        return build()
    except (MappingError, *INTERRUPTS):
        raise
    except Exception as exc:
        logger.exception("Mapping a Udemy item failed unexpectedly")
        raise MappingError(
            _raw_id(raw, id_key), "invalid_item", f"{UNEXPECTED}: {type(exc).__name__}"
        ) from exc


def _map_course(
    raw: Any, sync_tags: bool, default_lang: str, site_url: str, origins: Sequence[str]
) -> CourseRecord:
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
        launch_url=_on_site(_launch_url(item.url, site_url), origins, external_id),
        modified_at=_datetime(item.last_update_date, "last_update_date", external_id),
    )


def _map_learning_path(
    raw: Any, sync_tags: bool, site_url: str, origins: Sequence[str]
) -> CourseRecord:
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
        launch_url=_on_site(_launch_url(item.url, site_url), origins, external_id),
        modified_at=_datetime(item.last_modified, "last_modified", external_id),
    )


def _on_site(url: str, origins: Sequence[str], external_id: str) -> str:
    """`url` when it leads to one of `origins` (or there is none to check against or no URL)."""
    if not url or not origins or launch.launch_url_allowed(url, origins):
        return url
    raise MappingError(external_id, "invalid_value", launch.OFF_SITE, values._excerpt("url", url))


def _map_activity(raw: Any) -> StatRow:
    item = _validate(UdemyCourseActivity, raw, "course_id")
    course_id = _external_id(item.course_id, "course_id")
    email = _email(item.user_email, course_id)
    # 360Learning: course_start_date, or course_enroll_date when the start is not defined.
    started_at = _datetime(item.course_start_date, "course_start_date", course_id)
    first = started_at or _datetime(item.course_enroll_date, "course_enroll_date", course_id)
    ratio = _ratio(item.completion_ratio, course_id)
    record = StatRecord(
        external_course_id=course_id,
        email=email,
        email_key=email.lower(),
        is_anonymized=not email or email.casefold() == ANONYMIZED_EMAIL,
        first_activity=first,
        last_activity=_datetime(
            item.course_last_accessed_date, "course_last_accessed_date", course_id
        ),
        completed_at=_datetime(item.course_completion_date, "course_completion_date", course_id),
        progress=ratio_scale.progress(ratio, ratio_scale.PERCENT)[0],
        time_spent_ms=_time_spent_ms(item.num_video_consumed_minutes, course_id),
    )
    return StatRow(record=record, ratio=ratio, started=_started(started_at, record, ratio))


def _started(started_at: Any, record: StatRecord, ratio: float) -> bool:
    """360Learning: an opened attempt is for a learner who *starts* a course externally. Started
    = a start date, some progress, some minutes or a completion; a row with an enroll (or
    assignment) date and nothing else is a learner who has not started."""
    return bool(started_at or ratio > 0 or record.time_spent_ms > 0 or record.completed_at)
