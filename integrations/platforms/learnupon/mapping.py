"""Pure mappings between LearnUpon payloads and LMS Bridge records (no I/O, no database).

Directory: a LearnUpon user/group/membership object → `RemoteUser`/`RemoteGroup`/`RemoteMember`.
Push: a synced course → the `Course` object of `POST /courses` (LearnUpon API: "Create a
course"), a completed attempt → the enrollment and mark-complete it becomes.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import nh3

from integrations.core.records import MappingError

from ..base import RemoteGroup, RemoteMember, RemoteUser

KEYWORDS_MAX = 500  # LearnUpon limits string lengths (LearnUpon API: "character limits")
# LearnUpon API, "Create a course": "Some string fields for names and descriptions have
# character limits. Exceeding these limits cause your POST calls to fail." The numbers are in
# LearnUpon's "Portal: character limits of frequently-used fields" article, which the API
# document only points to: this bound is deliberately conservative. A longer description is
# cut at a word, ends with "…" and links back to the course on Udemy (`description_for`).
DESCRIPTION_MAX = 3000


def _id(raw: Mapping[str, Any], key: str = "id") -> str:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MappingError(str(value or ""), "invalid_item", f"missing or non-numeric {key}")
    return str(value)


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


# --------------------------------------------------------------------------- directory


def map_group(raw: Mapping[str, Any]) -> RemoteGroup:
    """LearnUpon API, "Groups data attributes returned": id, title, description, ...

    LearnUpon groups are flat (no parent attribute): they become children of the connected group.
    """
    remote_id = _id(raw)
    title = _text(raw, "title") or f"LearnUpon group {remote_id}"
    return RemoteGroup(remote_id=remote_id, name=title[:200])


def map_user(raw: Mapping[str, Any], today: date | None = None) -> RemoteUser:
    """LearnUpon API, "User object attributes": id, email, first_name, last_name, enabled,
    user_type ("one of learner, instructor, manager, admin": portal-wide, so it is the role in
    every group the user belongs to).

    A disabled account (`enabled: false`) is imported as an inactive learner, and so is an
    expired one: `account_expires` (yyyy-mm-dd, expiring at midnight UTC of that day)
    "overrides enabled attribute" (LearnUpon API, "User object attributes").
    """
    remote_id = _id(raw)
    email = _text(raw, "email").lower()
    if "@" not in email:
        raise MappingError(
            remote_id,
            "no_email",
            "the user has no e-mail address (portals identifying users by username only are "
            "not matched: statistics are matched by e-mail)",
        )
    return RemoteUser(
        remote_id=remote_id,
        email=email[:254],
        first_name=_text(raw, "first_name")[:150],
        last_name=_text(raw, "last_name")[:150],
        active=raw.get("enabled") not in (False, "false", 0) and not _expired(raw, today),
        role=_text(raw, "user_type").lower() or "learner",
    )


def _expired(raw: Mapping[str, Any], today: date | None) -> bool:
    """`account_expires` is today or earlier (an unreadable date is not an expiry)."""
    value = _text(raw, "account_expires")[:10]
    try:
        expires = date.fromisoformat(value)
    except ValueError:
        return False
    return expires <= (today or datetime.now(UTC).date())


def map_member(raw: Mapping[str, Any]) -> RemoteMember:
    """LearnUpon API, Group memberships: without `version_id` each object is the *user* (`id`);
    with `version_id=1.1` `id` is the membership and `user_id` the user. Both are accepted."""
    if raw.get("user_id") is not None:
        return RemoteMember(user_id=_id(raw, "user_id"))
    return RemoteMember(user_id=_id(raw))


# --------------------------------------------------------------------------- catalog push


@dataclass(frozen=True)
class CourseSnapshot:
    """What the push needs of a synced course (plain values, read by the push engine)."""

    local_id: str
    kind: str  # course | learning_path
    external_id: str
    title: str
    description: str
    duration_minutes: int | None
    tags: tuple[str, ...]
    url: str = ""  # the course on Udemy: where a cut description links back to


def reference_code(kind: str, external_id: str) -> str:
    """Identifies the Udemy item in LearnUpon: how a crashed push finds what it created."""
    return f"udemy-{kind}-{external_id}"


def course_fields(course: CourseSnapshot, *, owner_id: str, cataloged: bool) -> dict[str, Any]:
    """The `Course` object of POST/PUT /courses (LearnUpon API: "Create a course")."""
    fields: dict[str, Any] = {
        "name": course.title[:250],
        "owner_id": int(owner_id),
        "description": description_for(course),
        "keywords": ", ".join(sorted(course.tags))[:KEYWORDS_MAX],
        "reference_code": reference_code(course.kind, course.external_id),
        # LearnUpon API, "Create a course": true lists the course in the portal catalog, seen
        # by every user of the portal (the admin's explicit choice, `learnupon_cataloged`).
        "cataloged": bool(cataloged),
    }
    if course.duration_minutes:
        fields["minute_length"] = float(course.duration_minutes)
        fields["course_length_unit"] = 0  # minutes
    return fields


def description_for(course: CourseSnapshot, limit: int = DESCRIPTION_MAX) -> str:
    """The description as sent: the (sanitized) HTML when it fits `limit`, else its text cut
    at a word with "…" and a link to the full description on Udemy (never a tag or an entity
    cut in half)."""
    if len(course.description) <= limit:
        return course.description
    link = (
        f'<p><a href="{html.escape(course.url)}">Read the full description on Udemy</a></p>'
        if course.url
        else ""
    )
    text = " ".join(html.unescape(nh3.clean(course.description, tags=set())).split())
    room = limit - len(link) - len("<p>…</p>")
    cut = text[: max(room, 0)]
    while cut and len(html.escape(cut, quote=False)) > room:  # escaping lengthens it
        cut = cut[: len(cut) - max(1, (len(html.escape(cut, quote=False)) - room))]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return f"<p>{html.escape(cut, quote=False)}…</p>{link}"


def owner_problem(user: Mapping[str, Any]) -> str:
    """Why a LearnUpon user can't own the pushed courses ('' when they can).

    LearnUpon API, "Create a course": `owner_id` is "a portal administrator, or instructor with
    course creation privileges"; "User object attributes": `user_type` is one of learner,
    instructor, manager, admin, and an instructor's `tutor_can_create_courses` "indicates if
    the user can create their own courses. Default is false"."""
    user_id, kind = user.get("id"), _text(user, "user_type").lower()
    if kind == "admin":
        return ""
    if kind == "instructor":
        if str(user.get("tutor_can_create_courses")).lower() == "true":
            return ""
        return (
            f"LearnUpon user {user_id} is an instructor who may not create courses "
            "(tutor_can_create_courses is not true): give them that right in LearnUpon, or "
            "choose a portal administrator as the course owner."
        )
    return (
        f"LearnUpon user {user_id} is a {kind or 'user of unknown type'}: the course owner "
        "must be a portal administrator or an instructor who may create courses."
    )


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A stable digest of what was (or would be) sent: unchanged → nothing to send."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- completions


def utc_z(moment: datetime) -> str:
    """LearnUpon's date/time format: UTC, YYYY-MM-DDTHH:MI:SSZ (LearnUpon API)."""
    # isoformat pads the year to 4 digits (strftime's %Y does not on every platform)
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def completion_fields(*, email: str, course_id: str, completed_at: datetime) -> dict[str, Any]:
    """The enrollment (by e-mail) and mark-complete a Udemy completion becomes."""
    return {
        "email": email.lower(),
        "course_id": str(course_id),
        "date_completed": utc_z(completed_at),
    }


COMPLETE_STATUSES = frozenset({"completed", "passed"})


def enrollment_is_complete(enrollment: Mapping[str, Any]) -> bool:
    """LearnUpon API, enrollment `status`: not_started, in_progress, completed, passed, ..."""
    return str(enrollment.get("status", "")).lower() in COMPLETE_STATUSES
