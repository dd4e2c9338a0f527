"""HTTP client of the LearnUpon REST API v1 (LearnUpon API: "API access and authentication").

`https://{portal}.learnupon.com/api/v1/`, HTTP Basic with the portal's API username/password
(LearnUpon API: "Get your API keys"). Lists come in pages of 500 via `?page=N` and say whether
another page exists in the `LU-Has-Next-Page` header (LearnUpon API: "Data pagination"). Every
answer announces `X-LU-Rate-Limit-Remaining-Minute`/`-Week`; the client slows down when the
minute budget runs low instead of waiting to be refused (LearnUpon API: "Rate limit"), and
stops (`PlatformBudgetSpent`) before sending once the week budget is down to
`LEARNUPON_MIN_REMAINING_WEEK`: a used-up week is not retried, the next run goes on once it
renews. "All requests assume a content type of application/json" (LearnUpon API): every
request says so, GETs included.

HTTP only: no ORM, no mapping (see `mapping.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ...core.hosts import DNS_LABEL_RE
from ...core.http import JsonHttpClient, Result
from ...core.netutil import setting_or
from ..base import (
    PLATFORM_ERRORS,
    CredentialCheck,
    PlatformApiError,
    PlatformBadResponse,
    PlatformBudgetSpent,
    PlatformNotFound,
    platform_base_url,
    verdict_for,
)
from .mapping import owner_problem

RECORDS_PER_PAGE = 500  # the documented default; the header is trusted when present
MAX_PAGES = 10_000  # a server that always says "next page" must not loop forever
MINUTE_HEADER = "X-LU-Rate-Limit-Remaining-Minute"
WEEK_HEADER = "X-LU-Rate-Limit-Remaining-Week"
VENDOR_HOSTS = ("*.learnupon.com",)  # any other host must be in PLATFORM_ALLOWED_HOSTS

# List envelopes (LearnUpon API shows `{"user": [...]}` for users; the other list keys are not
# shown there, so each list accepts the plausible spellings).
USERS = ("user", "users")
GROUPS = ("groups", "group")
MEMBERS = ("user", "users", "group_memberships", "GroupMemberships")
COURSES = ("courses", "course")
GROUP_COURSES = ("group_courses", "GroupCourses", "group_course")
ENROLLMENTS = ("enrollments", "enrollment")


@dataclass(frozen=True)
class LearnUponCredentials:
    """A portal and its API keys (Settings > Integrations > API Keys in LearnUpon)."""

    portal: str
    username: str
    password: str = field(repr=False)
    base_url: str = ""  # override (the sandbox); allow-listed


@dataclass(frozen=True)
class LuPage:
    number: int
    items: list[dict]
    has_next: bool


def build_base_url(credentials: LearnUponCredentials) -> str:
    """`https://{portal}.learnupon.com/api/v1/`, or the validated override."""
    return platform_base_url(
        credentials.base_url,
        credentials.portal,
        pattern=DNS_LABEL_RE,
        template="https://{name}.learnupon.com/api/v1/",
        invalid="The portal {name!r} is not valid: use the subdomain, e.g. 'acme' for "
        "https://acme.learnupon.com.",
        vendor_hosts=VENDOR_HOSTS,
    )


def _bool_header(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "1", "yes")


def _int_header(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


class LearnUponClient(JsonHttpClient):
    """Client of one LearnUpon portal; `waits` records every pause (throttle, 429, retry)."""

    vendor = "LearnUpon"
    errors = PLATFORM_ERRORS
    settings_prefix = "PLATFORM"

    def __init__(
        self,
        credentials: LearnUponCredentials,
        *,
        min_remaining_minute: int | None = None,
        min_remaining_week: int | None = None,
        throttle_max_wait: float | None = None,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            build_base_url(credentials),
            auth=(credentials.username, credentials.password),
            secrets=(credentials.password,),
            headers={"Content-Type": "application/json"},
            **kwargs,
        )
        self.min_remaining_minute = int(
            setting_or(min_remaining_minute, "LEARNUPON_MIN_REMAINING_MINUTE", 5)
        )
        self.min_remaining_week = int(
            setting_or(min_remaining_week, "LEARNUPON_MIN_REMAINING_WEEK", 50)
        )
        self.throttle_max_wait = float(
            setting_or(throttle_max_wait, "LEARNUPON_THROTTLE_MAX_WAIT", 60)
        )
        self.remaining_minute: int | None = None
        self.remaining_week: int | None = None
        self._clock = clock

    # ------------------------------------------------------------------ rate limits

    def _seconds_left_in_minute(self) -> float:
        # "the number of remaining API requests for the current minute of the day"
        return 60.0 - (self._clock() % 60.0)

    def _send(self, method: str, url: str, body: Any) -> requests.Response:
        self._check_week()
        return super()._send(method, url, body)

    def _check_week(self) -> None:
        week = self.remaining_week
        if week is not None and week <= self.min_remaining_week:
            raise PlatformBudgetSpent(
                f"LearnUpon's weekly API budget is down to {week} request(s) "
                f"({WEEK_HEADER}): stopped before it runs out. What was sent is kept; the next "
                "run goes on from there once LearnUpon renews the week."
            )

    def _after_response(self, response: requests.Response) -> None:
        minute = _int_header(response.headers.get(MINUTE_HEADER))
        week = _int_header(response.headers.get(WEEK_HEADER))
        self.remaining_week = week if week is not None else self.remaining_week
        if minute is None:
            return
        self.remaining_minute = minute
        if response.status_code == 429 or minute > self.min_remaining_minute:
            return  # a 429 waits for its own Retry-After
        # Spread the remaining requests over the rest of the minute; none left: wait it out.
        left = self._seconds_left_in_minute()
        wait = left if minute <= 0 else left / (minute + 1)
        self.wait(f"{MINUTE_HEADER} is {minute}", min(wait, self.throttle_max_wait), "throttle")

    def _handle_429(self, label: str, response: requests.Response, budget: Any) -> None:
        self._check_week()  # a spent week is not waited for nor retried
        super()._handle_429(label, response, budget)

    def _default_429_wait(self, attempt: int) -> float:
        # No Retry-After: the per-minute budget is back at the next minute of the day.
        return min(self._seconds_left_in_minute() + 1.0, self.throttle_max_wait)

    def _detail(self, payload: Any) -> str:
        # {"response_type": "ERROR", "response_code": 400, "message": "..."} (LearnUpon API)
        if isinstance(payload, dict):
            message = payload.get("message") or payload.get("error")
            return message if isinstance(message, str) else ""
        return ""

    # ------------------------------------------------------------------ paging

    def iter_pages(
        self, path: str, keys: tuple[str, ...], params: Mapping[str, Any] | None = None
    ) -> Iterator[LuPage]:
        """Every page of a list endpoint, following `LU-Has-Next-Page` (LearnUpon API:
        "Data pagination"); without the header, a full page means there may be another."""
        for number in range(1, MAX_PAGES + 1):
            result = self.call("GET", path, params={**(params or {}), "page": number})
            items = self._items(result, keys)
            has_next = _bool_header(result.headers.get("LU-Has-Next-Page"))
            if has_next is None:
                per_page = _int_header(result.headers.get("LU-Records-Per-Page"))
                has_next = len(items) >= (per_page or RECORDS_PER_PAGE)
            yield LuPage(number, items, bool(has_next and items))
            if not has_next or not items:
                return
        raise PlatformBadResponse(f"LearnUpon kept announcing pages of {path} past {MAX_PAGES}.")

    def _items(self, result: Result, keys: tuple[str, ...]) -> list[dict]:
        payload = result.payload
        if isinstance(payload, list):
            return payload
        if isinstance(payload, dict):
            for key in keys:
                if isinstance(payload.get(key), list):
                    return payload[key]
            if not payload:
                return []
        raise PlatformBadResponse(
            f"LearnUpon answered with JSON that is not a list of {keys[0]}.",
            status=result.status,
            excerpt=self._excerpt(repr(payload)),
        )

    # ------------------------------------------------------------------ directory (reads)

    def iter_user_pages(self) -> Iterator[list[dict]]:
        # LearnUpon API, Users: "GET /users — Lists all users on the portal"
        return (page.items for page in self.iter_pages("users", USERS))

    def iter_group_pages(self) -> Iterator[list[dict]]:
        # LearnUpon API, Groups: "GET /groups — Lists all the groups on your portal"
        return (page.items for page in self.iter_pages("groups", GROUPS))

    def iter_group_member_pages(self, group_id: str) -> Iterator[list[dict]]:
        # LearnUpon API, Group memberships: "GET /group_memberships?group_id={id}"
        params = {"group_id": group_id}
        return (page.items for page in self.iter_pages("group_memberships", MEMBERS, params))

    def get_user(self, user_id: str) -> dict:
        # LearnUpon API, Users: "GET /users/{id} — Searches by id"
        result = self.call("GET", f"users/{int(user_id)}")
        users = self._items(result, USERS) if not _is_user(result.payload) else [result.payload]
        if not users:
            raise PlatformNotFound(f"LearnUpon has no user {user_id}.", status=result.status)
        return users[0]

    # ------------------------------------------------------------------ catalog push

    def iter_course_pages(self) -> Iterator[list[dict]]:
        # LearnUpon API, Courses: "GET /courses", include_draft=true returns drafts too
        params = {"include_draft": "true"}
        return (page.items for page in self.iter_pages("courses", COURSES, params))

    def iter_group_course_pages(self, group_id: str) -> Iterator[list[dict]]:
        # LearnUpon API, Group Courses: "GET /group_courses?group_id={group_id}"
        params = {"group_id": group_id}
        return (page.items for page in self.iter_pages("group_courses", GROUP_COURSES, params))

    def create_course(self, fields: Mapping[str, Any]) -> str:
        # LearnUpon API, Create a course: POST /courses {"Course": {"name", "owner_id", ...}}
        return self._id_of(self.call("POST", "courses", body={"Course": dict(fields)}))

    def publish_course(self, course_id: str) -> None:
        # LearnUpon API, Publish courses: POST /courses/publish {"course_id"} (draft courses)
        self.call("POST", "courses/publish", body={"course_id": int(course_id)})

    def update_course(self, course_id: str, fields: Mapping[str, Any]) -> None:
        # LearnUpon API, Update courses: PUT /courses/{id} {"Course": {...}}
        self.call("PUT", f"courses/{int(course_id)}", body={"Course": dict(fields)})

    def count_group_members(self, group_id: str) -> int:
        """How many users are in a group (what linking one course to it enrolls)."""
        return sum(len(page) for page in self.iter_group_member_pages(group_id))

    def create_group_course(
        self, group_id: str, course_id: str, *, re_enroll_completed: bool = False
    ) -> str:
        # LearnUpon API, Create a GroupCourse: POST /group_courses
        # {"GroupCourse": {"group_id", "course_id"}, "re_enroll_completed": ...} (mandatory).
        # Linking enrolls every member of the group, and every later joiner.
        body = {
            "GroupCourse": {"group_id": int(group_id), "course_id": int(course_id)},
            "re_enroll_completed": bool(re_enroll_completed),
        }
        return self._id_of(self.call("POST", "group_courses", body=body))

    def delete_group_course(self, group_course_id: str) -> None:
        # LearnUpon API, Delete a GroupCourse: DELETE /group_courses/{id}; the course stays,
        # and delete_enrollments defaults to false (learners keep their enrollments).
        self.call("DELETE", f"group_courses/{int(group_course_id)}")

    # ------------------------------------------------------------------ completions

    def enrollments_for_email(self, email: str) -> list[dict]:
        # LearnUpon API, Search for enrollments: GET /enrollments/search?email=
        pages = self.iter_pages("enrollments/search", ENROLLMENTS, {"email": email})
        return [item for page in pages for item in page.items]

    def create_enrollment(self, email: str, course_id: str) -> str:
        # LearnUpon API, Create an enrollment: POST /enrollments {"Enrollment": {email, course_id}}
        body = {"Enrollment": {"email": email, "course_id": int(course_id)}}
        return self._id_of(self.call("POST", "enrollments", body=body))

    def create_markcomplete(self, enrollment_id: str, date_completed: str) -> str:
        # LearnUpon API, Create MarkComplete: POST /markcompletes {"Markcomplete": {
        # enrollment_id, date_completed (UTC), status: completed}}; percentage only for
        # passed/failed.
        body = {
            "Markcomplete": {
                "enrollment_id": int(enrollment_id),
                "date_completed": date_completed,
                "status": "completed",
                "notes": "Completed on Udemy Business (LMS Bridge).",
            }
        }
        return self._id_of(self.call("POST", "markcompletes", body=body))

    # ------------------------------------------------------------------ helpers

    def _id_of(self, result: Result) -> str:
        payload = result.payload
        value = payload.get("id") if isinstance(payload, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise PlatformBadResponse(
                "LearnUpon's answer has no numeric id.",
                status=result.status,
                excerpt=self._excerpt(repr(payload)),
            )
        return str(value)

    def check_connection(self, *, owner_id: str = "", group_id: str = "") -> CredentialCheck:
        """Test connection: the keys (the group list), then the course owner and target group.

        Runs inside a web request: at most one retry and a Retry-After is never waited out.
        """
        try:
            with self.within_a_web_request():
                pages = self.iter_pages("groups", GROUPS)
                group_ids = {str(g.get("id")) for page in pages for g in page.items}
                owner = self._owner(owner_id) if owner_id else None
        except PlatformApiError as exc:
            return verdict_for(exc)
        if owner_id and owner is None:
            return CredentialCheck(
                False,
                "not_found",
                f"LearnUpon has no user {owner_id}: set the course owner to the numeric id "
                "of an admin or instructor.",
            )
        if owner is not None and (problem := owner_problem(owner)):
            return CredentialCheck(False, "owner_not_allowed", problem)
        if group_id and str(group_id) not in group_ids:
            return CredentialCheck(
                False,
                "not_found",
                f"LearnUpon has no group {group_id}: set the target group to the numeric id "
                "of an existing group.",
            )
        message = f"Connected to LearnUpon at {self.host}: {len(group_ids)} group(s)."
        if owner is not None:
            message += f" Course owner: user {owner_id} ({owner.get('user_type') or 'user'})."
        return CredentialCheck(ok=True, verdict="ok", message=message)

    def _owner(self, owner_id: str) -> dict | None:
        try:
            return self.get_user(owner_id)
        except PlatformNotFound:
            return None


def _is_user(payload: Any) -> bool:
    return isinstance(payload, dict) and "id" in payload and "email" in payload
