"""A loopback fake of the Coursebase API, with deterministic data.

Every method is `POST /api/{method}` with a JSON body and `Authorization: Bearer <token>`;
answers use the `{"status": "success", "data": …}` / `{"status": "error", "error": "<code>"}`
envelope; lists are paged by an opaque `next` cursor (100 per page, `next: null` at the end).
Methods: `org.groups.list` (a 3-level tree: org → departments → teams), `org.users.list`,
`group.users.list` (`group_not_found` for an unknown group), and the courses and report exports
of `reports` (`org.courses.list`, `org.reports.list`, `report.export`,
`report.export.status`, the zip under `/storage/`). Whether Coursebase answers its
error codes with HTTP 200 or 4xx is not documented: `error_status` picks (200 by default), and
the client handles both. Faults: `fail(status=429, retry_after=1)`, or
`fail(status=200, error_code="feature_not_enabled")`.
"""

from __future__ import annotations

import hmac
from base64 import urlsafe_b64decode, urlsafe_b64encode
from functools import partial
from typing import Any

from ...platforms.coursebase.client import CoursebaseCredentials
from ..base import SandboxServer
from ..exchange import Reply, Request, json_reply
from ..faults import Fault
from .data import CoursebaseData
from .reports import STORAGE_PREFIX, ReportsData, SandboxReports

PAGE_SIZE = 100
SAVED_REPORTS = [
    {"report_id": "rpL3arn3rs", "title": "Learner progress report", "type": "learners"},
    {"report_id": "rpC0urs3s0", "title": "Courses report", "type": "courses"},
]


class CoursebaseSandbox(SandboxServer):
    """A fake Coursebase org on a loopback port; see the module docstring."""

    data: CoursebaseData
    data_class = CoursebaseData

    name = "coursebase-sandbox"
    api_prefix = "/api/"
    server_version = "CoursebaseSandbox/1.0"

    def __init__(
        self,
        data: CoursebaseData | None = None,
        *,
        token: str = "cb-demo-token",  # noqa: S107 - the sandbox's public demo value
        domain: str = "learn.acme.example",
        error_status: int = 200,
        reports: ReportsData | None = None,
        course_titles: list[str] | None = None,
        polls_to_finish: int = 2,
        udemy_reports: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(data or CoursebaseData.generate(), **kwargs)
        self.token, self.domain, self.error_status = token, domain, error_status
        self.reports = SandboxReports(
            reports or ReportsData.generate(self.data.users, course_titles),
            lambda: self.data.users,
            polls_to_finish=polls_to_finish,
            udemy_reports=udemy_reports,
        )
        self._methods = {
            "org.groups.list": self._groups,
            "org.users.list": self._users,
            "group.users.list": self._group_users,
            "org.courses.list": self._courses,
            "org.reports.list": self._reports_list,
            "report.export": partial(self._export, self.reports.start),
            "report.export.status": partial(self._export, self.reports.status),
        }

    def start(self):
        started = super().start()
        self.reports.base_url = self.url
        return started

    def respond(
        self, method: str, target: str, headers: Any, raw: bytes, client: str = "127.0.0.1"
    ) -> Reply:
        # The signed download URL of a finished export: no API token, not in the API's log.
        if target.startswith(STORAGE_PREFIX):
            with self._lock:
                self.reports.download_auth.append(headers.get("Authorization", ""))
                return self.reports.download(target.split("?", 1)[0])
        return super().respond(method, target, headers, raw, client)

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api/"

    def credentials(self, **overrides: str) -> CoursebaseCredentials:
        values = {"domain": self.domain, "token": self.token, "base_url": self.api_base_url}
        return CoursebaseCredentials(**{**values, **overrides})

    def is_write(self, entry: dict) -> bool:
        # RPC: every call is a POST; only methods other than lists and info change data.
        method = entry["path"].removeprefix(self.api_prefix)
        return not method.endswith((".list", ".info", ".search", ".status"))

    def _fault_body(self, fault: Fault) -> Any:
        return {"status": "error", "error": fault.error_code or f"http_{fault.status}"}

    def _error(self, code: str, status: int | None = None) -> Reply:
        return json_reply(status or self.error_status, {"status": "error", "error": code})

    def _serve(self, request: Request) -> Reply:
        if request.method != "POST":
            return self._error("method_not_allowed", 405)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), self.token.encode()
        ):
            return self._error("invalid_auth", 401)
        handler = self._methods.get(request.path.removeprefix(self.api_prefix))
        if handler is None:
            return self._error("unknown_method", 404)
        body = request.body if isinstance(request.body, dict) else {}
        with self._lock:
            return handler(body)

    def _page(self, items: list[dict], key: str, body: dict, scope: str) -> Reply:
        offset = _offset(body.get("next"), scope)
        if offset is None:
            return self._error("invalid_cursor")
        chunk = items[offset : offset + PAGE_SIZE]
        more = offset + PAGE_SIZE < len(items)
        cursor = _cursor(scope, offset + PAGE_SIZE) if more else None
        return json_reply(200, {"status": "success", "data": {key: chunk, "next": cursor}})

    def _groups(self, body: dict) -> Reply:
        return json_reply(200, {"status": "success", "data": list(self.data.groups)})

    def _users(self, body: dict) -> Reply:
        return self._page(self.data.users, "users", body, "org.users")

    def _courses(self, body: dict) -> Reply:
        return self._page(self.reports.data.courses, "courses", body, "org.courses")

    def _reports_list(self, body: dict) -> Reply:
        return self._page(SAVED_REPORTS, "reports", body, "org.reports")

    def _export(self, handler, body: dict) -> Reply:
        code, data = handler(body)
        if code:
            return self._error(code)
        return json_reply(200, {"status": "success", "data": data})

    def _group_users(self, body: dict) -> Reply:
        group_id = body.get("group_id")
        if group_id not in self.data.members:
            return self._error("group_not_found")
        return self._page(self.data.members[group_id], "users", body, f"group:{group_id}")


def _cursor(scope: str, offset: int) -> str:
    return urlsafe_b64encode(f"{scope}|{offset}".encode()).decode().rstrip("=")


def _offset(cursor: Any, scope: str) -> int | None:
    if cursor is None:
        return 0
    try:
        text = urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        cursor_scope, _, offset = text.rpartition("|")
        return int(offset) if cursor_scope == scope else None
    except (ValueError, UnicodeDecodeError):
        return None
