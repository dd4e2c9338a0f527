"""Typed shapes of the Udemy Business items the sync reads, validated one raw item at a time.

Field lists come from the Udemy Business API guide ("Udemy Business REST API") and the public
Udemy Business clients. The models are strict about types: a string where a list is expected, a
boolean for an id, a number for a title is an error that the mapping turns into a
`MappingError` naming the field. They are lenient about presence: every field but the ids (and
titles, the learner e-mail) may be missing or null, and unknown fields are ignored, because Udemy
adds fields and public clients disagree on some keys.

Values whose shape varies between payload versions stay loosely typed inside a typed container
(`images` is any dict, `thumbnail` a URL or a dict of sizes, people a name or a small object) and
the mapping helpers keep what is usable. Range checks (negative minutes, ratio above 100) and date
parsing are the mapping's job, so their errors get their own categories.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator

_NUMBER_TEXT_MAX = 64  # a longer "number" is garbage, and int() of a huge string is slow


def _to_number(value: Any) -> int | float:
    """int, float, Decimal or a numeric string (DRF serializes decimals as strings); not bool."""
    if isinstance(value, bool):  # bool is an int subclass: True must not become 1 minute
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and len(value) <= _NUMBER_TEXT_MAX:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            pass
    raise ValueError("expected a number")


# Range and finiteness are checked by the mapping (category "invalid_value"), not here.
Number = Annotated[int | float, PlainValidator(_to_number)]
ExternalId = int | str  # strict: bool and float are rejected; the mapping checks the digits


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class NamedRef(_Payload):
    """A person or category given as an object instead of a plain string."""

    display_name: str | None = None
    title: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.title or self.name or ""


class LocaleRef(_Payload):
    """`{"_class": "locale", "locale": "ja_JP"}`."""

    locale: str | None = None


class PromoVideo(_Payload):
    """One rendition of the promo video: `{"type", "label": "720", "file"}`."""

    type: str | None = None
    label: str | int | float | None = None
    file: str | None = None


class UdemyCourse(_Payload):
    """An item of `courses/list/?fields[courses]=@all`."""

    id: ExternalId
    title: str
    description: str | None = None
    url: str | None = None
    estimated_content_length: Number | None = None
    categories: list[str | NamedRef] | None = None
    instructors: list[str | NamedRef] | None = None
    locale: LocaleRef | str | None = None
    images: dict[str, Any] | None = None
    promo_video_url: list[PromoVideo] | str | None = None
    last_update_date: str | None = None


class PathItem(_Payload):
    """Content of a learning path section: a course, lecture, assessment, lab, link …"""

    id: int | str | None = None
    type: str | None = None
    title: str | None = None
    url: str | None = None
    order: Number | None = None


class PathSection(_Payload):
    title: str | None = None
    description: str | None = None
    order: Number | None = None
    items: list[PathItem] | None = None


class UdemyLearningPath(_Payload):
    """An item of `learning-paths/list/`."""

    id: ExternalId
    title: str
    description: str | None = None
    url: str | None = None
    last_modified: str | None = None
    estimated_content_length: Number | None = None
    categories: list[str | NamedRef] | None = None
    editors: list[NamedRef | str] | None = None
    thumbnail: str | dict[str, Any] | None = None
    sections: list[PathSection] | None = None


class UdemyCourseActivity(_Payload):
    """A row of `analytics/user-course-activity/`: one learner x one course."""

    course_id: ExternalId
    user_email: str
    course_enroll_date: str | None = None
    course_start_date: str | None = None
    course_last_accessed_date: str | None = None
    course_completion_date: str | None = None
    completion_ratio: Number | None = None
    num_video_consumed_minutes: Number | None = None


# Fields holding dates: a wrong value there is reported as "invalid_date".
DATE_FIELDS = frozenset(
    {
        "last_update_date",
        "last_modified",
        "course_enroll_date",
        "course_start_date",
        "course_last_accessed_date",
        "course_completion_date",
    }
)
