"""A loopback fake of the LearnUpon REST API v1, with deterministic data, for demos and tests.

It follows the LearnUpon API for every endpoint LMS Bridge uses: HTTP Basic auth; lists paged with
`?page=N` and the `LU-Current-Page`, `LU-Records-Per-Page`, `LU-Has-Next-Page` headers;
`X-LU-Rate-Limit-Remaining-Minute`/`-Week` on every answer, counting down from
`remaining_minute`/`remaining_week` with each request, answering 429 once one is spent, and
renewing at the next minute / week of `clock` (injectable); error bodies
`{"response_type": "ERROR", "response_code": N, "message": "..."}`, with 404 "Invalid
parameters" for an unknown path or a malformed parameter (`replies`). Endpoints:
users, groups and group_memberships here; courses (+ publish, PUT), group_courses, enrollments
(+ search) and markcompletes in `push` (linking a course to a group enrolls the group's
members, and `data.join()` enrolls a later joiner on the group's linked courses). Faults:
`fail(status=429, retry_after=1, path_contains="courses")`, and
`throttle(remaining=1, times=3)` makes the next answers announce a low minute budget.

    with LearnUponSandbox(LearnUponData.generate(seed=1, users=1000)) as lu:
        client = LearnUponClient(lu.credentials())
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from ...platforms.learnupon.client import LearnUponCredentials
from ..base import SandboxServer
from ..exchange import Reply, Request, basic_auth_matches, json_reply, phrase
from ..faults import Fault
from .data import LearnUponData
from .push import PushEndpoints
from .replies import error_body, error_reply, int_or_none

WEEK_SECONDS = 7 * 24 * 3600


class LearnUponSandbox(PushEndpoints, SandboxServer):
    """A fake LearnUpon portal on a loopback port; see the module docstring."""

    data: LearnUponData
    data_class = LearnUponData

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
        super().__init__(data or LearnUponData.generate(), **kwargs)
        # LearnUpon API, "Create a course": descriptions have character limits and a longer
        # one makes the POST fail (the portal's number is not in the API document).
        self.description_max = description_max
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
        reply = error_reply(429, "exceeded limit on API requests")
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
        return error_body(fault.status, message)

    def _serve(self, request: Request) -> Reply:
        header = request.headers.get("Authorization", "")
        if not basic_auth_matches(header, self.username, self.password):
            return error_reply(401, "Not authorised")
        if (refused := self._spend()) is not None:
            return refused
        resource = request.path.removeprefix(self.api_prefix).rstrip("/")
        with self._lock:
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(resource)
                if match and method == request.method:
                    return handler(request, *match.groups())
        return error_reply(404, "Invalid parameters")

    def _paged(self, items: list[dict], key: str, query: dict[str, str]) -> Reply:
        page = int_or_none(query.get("page", "1"))
        if page is None or page < 1:
            return error_reply(404, "Invalid parameters: page must be a positive integer")
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
        return json_reply(200, {"user": [user]}) if user else error_reply(404, "User not found")

    def _list_groups(self, request: Request) -> Reply:
        return self._paged(self.data.groups, "groups", request.query)

    def _list_members(self, request: Request) -> Reply:
        group_id = int_or_none(request.query.get("group_id"))
        if group_id is None:
            return error_reply(404, "Invalid parameters: group_id must be a numeric group id")
        if group_id not in self.data.memberships:
            return error_reply(404, "Group not found")
        by_id = {u["id"]: u for u in self.data.users}
        fields = ("id", "first_name", "last_name", "email", "username", "created_at", "locale")
        users = [
            {f: by_id[m][f] for f in fields} for m in self.data.memberships[group_id] if m in by_id
        ]
        return self._paged(users, "user", request.query)
