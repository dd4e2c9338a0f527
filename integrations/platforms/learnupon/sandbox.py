"""A loopback fake of the LearnUpon REST API v1, with deterministic data, for demos and tests.

It follows the LearnUpon API for every endpoint LMS Bridge uses: HTTP Basic auth; lists paged with
`?page=N` and the `LU-Current-Page`, `LU-Records-Per-Page`, `LU-Has-Next-Page` headers;
`X-LU-Rate-Limit-Remaining-Minute`/`-Week` on every answer, counting down from
`remaining_minute`/`remaining_week` with each request, answering 429 once one is spent, and
renewing at the next minute / week of `clock` (injectable); error bodies
`{"response_type": "ERROR", "response_code": N, "message": "..."}`, with 404 "Invalid
parameters" for an unknown path or a malformed parameter. Linking a course to a group
(`POST /group_courses`, `re_enroll_completed` mandatory) enrolls the group's members, and
`data.join()` enrolls a later joiner on the group's linked courses. Endpoints: users, groups,
group_memberships, courses (+ publish, PUT), group_courses, enrollments (+ search),
markcompletes. A course owner must be an admin or an instructor with `tutor_can_create_courses`;
`description_max` makes a longer course description a 400, as a portal's limit does. Faults:
`fail(status=429, retry_after=1, path_contains="courses")`, and
`throttle(remaining=1, times=3)` makes the next answers announce a low minute budget.

    with LearnUponSandbox(LearnUponData.generate(seed=1, users=1000)) as lu:
        client = LearnUponClient(lu.credentials())
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...core.sandbox import (
    Fault,
    Reply,
    Request,
    SandboxServer,
    basic_auth_matches,
    json_reply,
    phrase,
)
from .client import LearnUponCredentials
from .sandbox_data import ANCHOR, COMPLETE, LearnUponData, iso

WEEK_SECONDS = 7 * 24 * 3600


class LearnUponSandbox(SandboxServer):
    """A fake LearnUpon portal on a loopback port; see the module docstring."""

    name = "learnupon-sandbox"
    api_prefix = "/api/v1/"
    server_version = "LearnUponSandbox/1.0"

    def __init__(
        self,
        data: LearnUponData | None = None,
        *,
        username: str = "lu-api-user",
        password: str = "lu-api-password",  # noqa: S107 - the sandbox's public demo value
        page_size: int = 500,
        remaining_minute: int = 1000,
        remaining_week: int = 100_000,
        clock: Callable[[], float] = time.time,
        description_max: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # LearnUpon API, "Create a course": descriptions have character limits and a longer
        # one makes the POST fail (the portal's number is not in the API document).
        self.description_max = description_max
        self.data = data or LearnUponData.generate()
        self.username, self.password = username, password
        self.page_size = page_size
        self.remaining_minute, self.remaining_week = remaining_minute, remaining_week
        self._throttled: list[int] = []
        self.clock = clock
        self._used = {"minute": 0, "week": 0}
        self._periods = {"minute": -1, "week": -1}
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = [
            ("GET", re.compile(r"users"), self._list_users),
            ("GET", re.compile(r"users/(\d+)"), self._get_user),
            ("GET", re.compile(r"groups"), self._list_groups),
            ("GET", re.compile(r"group_memberships"), self._list_members),
            ("GET", re.compile(r"courses"), self._list_courses),
            ("POST", re.compile(r"courses"), self._create_course),
            ("POST", re.compile(r"courses/publish"), self._publish_course),
            ("PUT", re.compile(r"courses/(\d+)"), self._update_course),
            ("GET", re.compile(r"group_courses"), self._list_group_courses),
            ("POST", re.compile(r"group_courses"), self._create_group_course),
            ("DELETE", re.compile(r"group_courses/(\d+)"), self._delete_group_course),
            ("GET", re.compile(r"enrollments/search"), self._search_enrollments),
            ("POST", re.compile(r"enrollments"), self._create_enrollment),
            ("GET", re.compile(r"markcompletes"), self._list_markcompletes),
            ("POST", re.compile(r"markcompletes"), self._create_markcomplete),
        ]

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api/v1/"

    def credentials(self, **overrides: str) -> LearnUponCredentials:
        values = {
            "portal": self.data.portal,
            "username": self.username,
            "password": self.password,
            "base_url": self.api_base_url,
            **overrides,
        }
        return LearnUponCredentials(**values)

    def throttle(self, *, remaining: int, times: int = 1) -> None:
        """The next `times` answers announce only `remaining` requests left this minute."""
        with self._lock:
            self._throttled.extend([remaining] * times)

    # ------------------------------------------------------------------ plumbing

    def respond(
        self, method: str, target: str, headers: Any, raw: bytes, client: str = "127.0.0.1"
    ) -> Reply:
        reply = super().respond(method, target, headers, raw, client)
        reply.headers.update(self._rate_headers())
        return reply

    def _left(self) -> dict[str, int]:
        """The requests left this minute and this week (renewed when the period changes)."""
        now = self.clock()
        periods = {"minute": int(now // 60), "week": int(now // WEEK_SECONDS)}
        for name, period in periods.items():
            if period != self._periods[name]:
                self._periods[name], self._used[name] = period, 0
        return {
            "minute": max(0, self.remaining_minute - self._used["minute"]),
            "week": max(0, self.remaining_week - self._used["week"]),
        }

    def _spend(self) -> Reply | None:
        """Count one request against both budgets; a 429 when one is spent."""
        with self._lock:
            left = self._left()
            if left["minute"] and left["week"]:
                self._used["minute"] += 1
                self._used["week"] += 1
                return None
            now = self.clock()
            period = 60 if not left["minute"] else WEEK_SECONDS
        retry_after = max(1, int(period - now % period))
        reply = _error(429, "exceeded limit on API requests")
        reply.headers["Retry-After"] = str(retry_after)
        return reply

    def _rate_headers(self) -> dict[str, str]:
        with self._lock:
            left = self._left()
            minute = self._throttled.pop(0) if self._throttled else left["minute"]
        return {
            "X-LU-Rate-Limit-Remaining-Minute": str(minute),
            "X-LU-Rate-Limit-Remaining-Week": str(left["week"]),
        }

    def _fault_body(self, fault: Fault) -> Any:
        message = "exceeded limit on API requests" if fault.status == 429 else phrase(fault.status)
        return _error_body(fault.status, message)

    def _serve(self, request: Request) -> Reply:
        header = request.headers.get("Authorization", "")
        if not basic_auth_matches(header, self.username, self.password):
            return _error(401, "Not authorised")
        if (refused := self._spend()) is not None:
            return refused
        resource = request.path.removeprefix(self.api_prefix).rstrip("/")
        with self._lock:
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(resource)
                if match and method == request.method:
                    return handler(request, *match.groups())
        return _error(404, "Invalid parameters")

    def _paged(self, items: list[dict], key: str, query: dict[str, str]) -> Reply:
        page = _int(query.get("page", "1"))
        if page is None or page < 1:
            return _error(404, "Invalid parameters: page must be a positive integer")
        size = self.page_size
        chunk = items[(page - 1) * size : page * size]
        headers = {
            "LU-Current-Page": str(page),
            "LU-Records-Per-Page": str(size),
            "LU-Has-Next-Page": "true" if page * size < len(items) else "false",
        }
        return json_reply(200, {key: chunk}, headers)

    # ------------------------------------------------------------------ directory

    def _list_users(self, request: Request) -> Reply:
        return self._paged(self.data.users, "user", request.query)

    def _get_user(self, request: Request, user_id: str) -> Reply:
        user = next((u for u in self.data.users if u["id"] == int(user_id)), None)
        return json_reply(200, {"user": [user]}) if user else _error(404, "User not found")

    def _list_groups(self, request: Request) -> Reply:
        return self._paged(self.data.groups, "groups", request.query)

    def _list_members(self, request: Request) -> Reply:
        group_id = _int(request.query.get("group_id"))
        if group_id is None:
            return _error(404, "Invalid parameters: group_id must be a numeric group id")
        if group_id not in self.data.memberships:
            return _error(404, "Group not found")
        by_id = {u["id"]: u for u in self.data.users}
        fields = ("id", "first_name", "last_name", "email", "username", "created_at", "locale")
        users = [
            {f: by_id[m][f] for f in fields} for m in self.data.memberships[group_id] if m in by_id
        ]
        return self._paged(users, "user", request.query)

    # ------------------------------------------------------------------ courses

    def _list_courses(self, request: Request) -> Reply:
        drafts = request.query.get("include_draft", "").lower() == "true"
        items = [
            c
            for c in self.data.courses.values()
            if drafts or c["published_status_id"] == "published"
        ]
        return self._paged(items, "courses", request.query)

    def _create_course(self, request: Request) -> Reply:
        fields = _object(request.body, "Course")
        if not isinstance(fields.get("name"), str) or not fields["name"].strip():
            return _error(400, "name is required")
        if (refused := self._too_long(fields)) is not None:
            return refused
        owner = next((u for u in self.data.users if u["id"] == fields.get("owner_id")), None)
        if owner is None or not _may_create_courses(owner):
            return _error(400, "owner_id must be a portal administrator or instructor")
        course_id = self.data.new_id()
        self.data.courses[course_id] = {
            "id": course_id,
            "version": 1,
            "source_id": course_id,
            "published_status_id": "draft",
            "created_at": iso(ANCHOR),
            **_course_attributes(fields),
            "owner_id": owner["id"],
        }
        return json_reply(201, {"id": course_id})

    def _too_long(self, fields: dict) -> Reply | None:
        description = fields.get("description")
        limit = self.description_max
        if limit is not None and isinstance(description, str) and len(description) > limit:
            return _error(400, f"description is too long (maximum is {limit} characters)")
        return None

    def _publish_course(self, request: Request) -> Reply:
        course = self.data.courses.get(_int((request.body or {}).get("course_id")))
        if course is None:
            return _error(404, "Course not found")
        if course["published_status_id"] != "draft":
            return _error(400, "Courses must be in draft state to publish")
        course["published_status_id"], course["date_published"] = "published", iso(ANCHOR)
        return json_reply(200, {"id": course["id"]})

    def _update_course(self, request: Request, course_id: str) -> Reply:
        course = self.data.courses.get(int(course_id))
        if course is None:
            return _error(404, "Course not found")
        fields = _object(request.body, "Course")
        if (refused := self._too_long(fields)) is not None:
            return refused
        course.update(_course_attributes(fields))
        return json_reply(200, {"id": course["id"]})

    def _list_group_courses(self, request: Request) -> Reply:
        group_id = _int(request.query.get("group_id"))
        if group_id is None and "group_id" in request.query:
            return _error(404, "Invalid parameters: group_id must be a numeric group id")
        items = [
            gc for gc in self.data.group_courses.values() if group_id in (None, gc["group_id"])
        ]
        return self._paged(items, "group_courses", request.query)

    def _create_group_course(self, request: Request) -> Reply:
        link = _object(request.body, "GroupCourse")
        body = request.body if isinstance(request.body, dict) else {}
        re_enroll = _bool(body.get("re_enroll_completed"))
        if re_enroll is None:
            return _error(400, "re_enroll_completed is required")
        group_id, course_id = _int(link.get("group_id")), _int(link.get("course_id"))
        group = next((g for g in self.data.groups if g["id"] == group_id), None)
        course = self.data.courses.get(course_id)
        if group is None or course is None:
            return _error(404, "Group or course not found")
        if course["published_status_id"] != "published":
            return _error(400, "Only published courses can be added to a group")
        if any(
            gc["group_id"] == group_id and gc["course_id"] == course_id
            for gc in self.data.group_courses.values()
        ):
            return _error(400, "This course is already assigned to this group")
        link_id = self.data.link(group, course, re_enroll)
        return json_reply(201, {"id": link_id})

    def _delete_group_course(self, request: Request, link_id: str) -> Reply:
        if self.data.group_courses.pop(int(link_id), None) is None:
            return _error(404, "GroupCourse not found")
        return json_reply(200, {"message": "success"})

    # ------------------------------------------------------------------ enrollments

    def _search_enrollments(self, request: Request) -> Reply:
        email = request.query.get("email", "").lower()
        if not email:
            return _error(404, "Invalid parameters")
        items = [e for e in self.data.enrollments.values() if e["email"].lower() == email]
        return self._paged(items, "enrollments", request.query)

    def _create_enrollment(self, request: Request) -> Reply:
        fields = _object(request.body, "Enrollment")
        user = self.data.user_by_email(str(fields.get("email", "")))
        course = self.data.courses.get(_int(fields.get("course_id")))
        if user is None:
            return _error(400, "Failed to find the user specified")
        if course is None or course["published_status_id"] != "published":
            return _error(400, "Not authorised for that course or course not found")
        enrollment_id = self.data.enroll(user, course)
        if enrollment_id is None:
            return _error(400, "User is already enrolled on this course")
        return json_reply(201, {"id": enrollment_id, "created_at": iso(ANCHOR)})

    def _list_markcompletes(self, request: Request) -> Reply:
        return self._paged(self.data.markcompletes, "markcompletes", request.query)

    def _create_markcomplete(self, request: Request) -> Reply:
        fields = _object(request.body, "Markcomplete")
        enrollment = self.data.enrollments.get(_int(fields.get("enrollment_id")))
        status = fields.get("status")
        if enrollment is None:
            return _error(404, "Enrollment not found")
        if status not in COMPLETE:
            return _error(400, "status must be one of completed, passed, failed")
        if status != "completed" and fields.get("percentage") is None:
            return _error(400, "percentage is required for passed or failed")
        try:
            datetime.strptime(str(fields.get("date_completed")), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return _error(400, "date_completed must be YYYY-MM-DDTHH:MI:SSZ")
        enrollment["status"], enrollment["date_completed"] = status, fields["date_completed"]
        mark_id = self.data.new_id()
        self.data.markcompletes.append(
            {
                "id": mark_id,
                "enrollment_id": enrollment["id"],
                "date_completed": fields["date_completed"],
                "status": status,
                "action_source_type": "API",
                "created_at": iso(ANCHOR),
            }
        )
        return json_reply(201, {"id": mark_id, "created_at": iso(ANCHOR)})


COURSE_FIELDS = (
    "name",
    "description",
    "keywords",
    "reference_code",
    "minute_length",
    "owner_id",
    "cataloged",
)


def _course_attributes(fields: dict) -> dict:
    values = {k: fields[k] for k in COURSE_FIELDS if k in fields}
    if "description" in values:
        values["description_html"] = values.pop("description")
    return values


def _may_create_courses(user: dict) -> bool:
    """LearnUpon API, `owner_id`: "portal administrator, or instructor with course creation
    privileges" (an instructor's `tutor_can_create_courses`, "Default is false")."""
    if user["user_type"] == "admin":
        return True
    rights = user.get("tutor_can_create_courses")
    return user["user_type"] == "instructor" and rights in (True, "true")


def _object(body: Any, key: str) -> dict:
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, dict) else {}


def _bool(value: Any) -> bool | None:
    """A JSON boolean or its string spelling (LearnUpon's examples send "true")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error_body(status: int, message: str) -> dict:
    return {"response_type": "ERROR", "response_code": status, "message": message}


def _error(status: int, message: str) -> Reply:
    return json_reply(status, _error_body(status, message))
