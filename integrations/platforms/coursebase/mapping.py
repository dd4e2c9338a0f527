"""Pure mappings of Coursebase objects (Coursebase API) to records: the directory (groups, users,
members), the course list, and the rows of the `courses` and `learners` report exports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from integrations.core.records import MappingError

from ..base import RemoteGroup, RemoteMember, RemoteUser


def _id(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise MappingError(str(value or "")[:100], "invalid_item", f"missing or invalid {key}")
    return value.strip()


def map_group(raw: Mapping[str, Any]) -> RemoteGroup:
    """Coursebase API, org.groups.list: group_id, name, parent_id (null: the org level)."""
    group_id = _id(raw, "group_id")
    parent = raw.get("parent_id")
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    return RemoteGroup(
        remote_id=group_id,
        name=(name.strip() or f"Coursebase group {group_id}")[:200],
        parent_id=parent.strip() if isinstance(parent, str) and parent.strip() else None,
    )


def map_user(raw: Mapping[str, Any]) -> RemoteUser:
    """Coursebase API, org.users.list: user_id and login_id (an e-mail address in practice).

    The list carries no names and no status: names stay as they are locally, and a user is
    deactivated only when it disappears from the list.
    """
    user_id = _id(raw, "user_id")
    login = raw.get("login_id") if isinstance(raw.get("login_id"), str) else ""
    email = login.strip().lower()
    if "@" not in email or len(email) > 254:
        raise MappingError(
            user_id, "no_email", "the login ID is not an e-mail address: it can't be matched"
        )
    return RemoteUser(remote_id=user_id, email=email)


def map_member(raw: Mapping[str, Any]) -> RemoteMember:
    """Coursebase API, group.users.list: user_id, login_id, role (learner, admin, instructor)."""
    role = raw.get("role").strip().lower() if isinstance(raw.get("role"), str) else "learner"
    return RemoteMember(user_id=_id(raw, "user_id"), role=role)


# --------------------------------------------------------------------------- courses and reports


@dataclass(frozen=True)
class RemoteCourse:
    remote_id: str
    title: str


def map_course(raw: Mapping[str, Any]) -> RemoteCourse:
    """Coursebase API, org.courses.list: course_id and title."""
    course_id = _id(raw, "course_id")
    title = raw.get("title") if isinstance(raw.get("title"), str) else ""
    if not title.strip():
        raise MappingError(course_id, "invalid_item", "the course has no title")
    return RemoteCourse(remote_id=course_id, title=" ".join(title.split())[:500])


def title_key(title: str) -> str:
    """Titles compared for matching: case, accents' case and spacing do not count."""
    return " ".join(title.split()).casefold()


@dataclass(frozen=True)
class CourseReportRow:
    """One row of the `courses` report: a course's learner counts in Coursebase."""

    course_id: str
    title: str
    learners: int
    completed: int
    completion_rate: float | None  # percent


@dataclass(frozen=True)
class LearnerReportRow:
    """One row of the `learners` report: a learner's progress on a course in Coursebase."""

    course_id: str
    user_id: str
    email: str
    status: str  # not_started | in_progress | completed
    progress: float | None  # percent
    completed_at: datetime | None


# The report files' columns are not documented (Coursebase API: report.export returns a zip of
# CSV): columns are found by name, case, spacing and punctuation aside, under these spellings.
REPORT_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "courses": {
        "course_id": ("courseid", "id"),
        "title": ("coursetitle", "title", "course"),
        "learners": ("learners", "learnercount", "enrolled"),
        "completed": ("completed", "completedcount", "completions"),
        "completion_rate": ("completionrate", "completionrate%", "completion%"),
    },
    "learners": {
        "course_id": ("courseid",),
        "user_id": ("userid",),
        "email": ("loginid", "email", "login"),
        "status": ("status", "progressstatus"),
        "progress": ("progress", "progress%", "completion"),
        "completed_at": ("completedat", "completiondate", "completed"),
    },
}
REQUIRED_COLUMNS = {
    "courses": ("course_id", "learners", "completed"),
    "learners": ("course_id", "email", "progress"),
}
STATUSES = {
    "notstarted": "not_started",
    "inprogress": "in_progress",
    "started": "in_progress",
    "completed": "completed",
    "passed": "completed",
}


def header_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum() or ch == "%").removesuffix("%")


def report_columns(report_type: str, header: list[str]) -> dict[str, int]:
    """Field → column index of a report's header; `MappingError` naming what is missing."""
    keys = [header_key(name) for name in header]
    found: dict[str, int] = {}
    for field_name, spellings in REPORT_COLUMNS[report_type].items():
        wanted = {header_key(s) for s in spellings}
        index = next((i for i, key in enumerate(keys) if key in wanted), None)
        if index is not None:
            found[field_name] = index
    missing = [name for name in REQUIRED_COLUMNS[report_type] if name not in found]
    if missing:
        raise MappingError(
            report_type,
            "bad_report",
            f"the {report_type} report has no column for {', '.join(missing)} "
            f"(header: {', '.join(header)[:300]})",
        )
    return found


def map_report_row(
    report_type: str, columns: dict[str, int], row: list[str], line: int, zone: tzinfo = UTC
) -> CourseReportRow | LearnerReportRow:
    """One CSV row of a report → its record (`MappingError` for a bad row, named by line).
    `zone`: the time zone the export was requested in (Coursebase API, report.export: "The time
    zone used for date values in the report"): a date without an offset is read in it."""
    values = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
    ref = f"line {line}"
    course_id = _report_id(values.get("course_id", ""), ref, "course ID")
    if report_type == "courses":
        return CourseReportRow(
            course_id=course_id,
            title=" ".join(values.get("title", "").split())[:500],
            learners=_count(values["learners"], ref, "learners"),
            completed=_count(values["completed"], ref, "completed"),
            completion_rate=_percent(values.get("completion_rate", ""), ref, required=False),
        )
    email = values["email"].lower()
    if "@" not in email or len(email) > 254:
        raise MappingError(ref, "bad_row", "the login ID is not an e-mail address")
    progress = _percent(values["progress"], ref, required=True)
    status = STATUSES.get(header_key(values.get("status", "")))
    if status is None:
        status = "completed" if progress == 100 else "in_progress" if progress else "not_started"
    return LearnerReportRow(
        course_id=course_id,
        user_id=values.get("user_id", "")[:100],
        email=email,
        status=status,
        progress=progress,
        completed_at=_moment(values.get("completed_at", ""), ref, zone),
    )


def _report_id(value: str, ref: str, what: str) -> str:
    if not value or len(value) > 100:
        raise MappingError(ref, "bad_row", f"missing or invalid {what}")
    return value


def _count(value: str, ref: str, what: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise MappingError(ref, "bad_row", f"{what} is not a count: {value[:30]!r}")
    return int(value)


def _percent(value: str, ref: str, *, required: bool) -> float | None:
    text = value.removesuffix("%").strip()
    if not text:
        if required:
            raise MappingError(ref, "bad_row", "no progress value")
        return None
    try:
        number = float(text)
    except ValueError:
        raise MappingError(ref, "bad_row", f"not a percentage: {value[:30]!r}") from None
    if not (0 <= number <= 100):  # also refuses nan and inf
        raise MappingError(ref, "bad_row", f"a percentage out of 0-100: {value[:30]!r}")
    return round(number, 2)


def _moment(value: str, ref: str, zone: tzinfo = UTC) -> datetime | None:
    if not value:
        return None
    try:
        return report_moment(value, zone)
    except ValueError:
        raise MappingError(ref, "bad_row", f"not a date: {value[:30]!r}") from None


def report_moment(value: str, zone: tzinfo) -> datetime:
    """A report's date: with an offset as it says, without one in the `zone` the export was
    requested in (never UTC by default: a 1-2 h shift for a Paris report)."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
