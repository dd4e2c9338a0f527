"""HTTP client of the Coursebase API (Coursebase API: "Methods").

Reads the directory (`org.groups.list`, `org.users.list`, `group.users.list`), the course list
(`org.courses.list`) and report exports (`report.export`, `report.export.status`, then the zip
at the signed download URL, fetched by `download_export` into a local file).

RPC over HTTPS: every method is `POST https://{custom_domain}/api/{method}` with a JSON body and
`Authorization: Bearer <token>`. Answers are `{"status": "success", "data": …}` or
`{"status": "error", "error": "<code>"}`; lists are paged with a cursor: send the same body plus
`"next": <cursor>`, `next: null` ends (100 per page). The list methods only read, so they are
retried like GETs; so is `report.export`, which is idempotent by the API's rule ("Submitting a
request for an ongoing export will return the status of the current operation").

HTTP only: no ORM, no mapping (see `mapping.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import requests

from ...core.download import checked_download_url, download_to
from ...core.hosts import DOMAIN_RE, allowed_host_patterns
from ...core.http import JsonHttpClient
from ...core.netutil import setting
from ..base import (
    ALLOWED_HOSTS_SETTING,
    PLATFORM_ERRORS,
    CredentialCheck,
    PlatformApiError,
    PlatformAuthError,
    PlatformBadResponse,
    PlatformConfigError,
    PlatformNotFound,
    PlatformRetryLater,
    platform_base_url,
    verdict_for,
)

MAX_PAGES = 10_000
# Where Coursebase's finished exports are downloaded from (Coursebase API, report.export.status:
# "url": "https://storage.coursebase.co/report-exports/…"); others need PLATFORM_ALLOWED_HOSTS.
STORAGE_HOSTS = ("storage.coursebase.co",)
EXPORT_STATUSES = ("pending", "started", "finished")  # Coursebase API, "Status properties"
REPORT_TYPES = frozenset(
    {"activities", "activity_solutions", "courses", "learners", "people", "submission_answers",
     "submission_rates", "submissions", "video_analytics", "udemy_user_activity",
     "udemy_user_course_activity", "udemy_user_progress"}
)  # fmt: skip
# Documented codes, with what they mean for an admin (Coursebase API: "Errors").
ERROR_MESSAGES = {
    "group_not_found": "Coursebase could not find the group (group_not_found).",
    "user_not_found": "Coursebase could not find the user (user_not_found).",
    "feature_not_enabled": "This feature is not enabled for the Coursebase org "
    "(feature_not_enabled): ask Coursebase to enable API access.",
    "not_found": "Coursebase could not find what was asked for (not_found).",
    "invalid_report_type": "Coursebase does not offer this report type to the org "
    "(invalid_report_type).",
    "invalid_language": "Coursebase refused the report language (invalid_language).",
    "invalid_time_zone": "Coursebase refused the report time zone (invalid_time_zone).",
}
# Not listed in the Coursebase API (auth and rate-limit failures have no documented code): the
# usual spellings are recognised, and HTTP 401/403/429 are handled whatever the body says.
AUTH_CODES = frozenset(
    {"invalid_auth", "invalid_token", "not_authed", "unauthorized", "token_revoked",
     "token_expired", "forbidden", "account_inactive"}
)  # fmt: skip
RATE_CODES = frozenset({"rate_limited", "ratelimited", "too_many_requests"})


@dataclass(frozen=True)
class CoursebaseCredentials:
    domain: str  # the org's custom domain, e.g. learn.acme.com
    token: str = field(repr=False)
    base_url: str = ""  # override (the sandbox); allow-listed


def build_base_url(credentials: CoursebaseCredentials) -> str:
    """`https://{custom_domain}/api/`, or the validated override; the host must be allowed
    (custom domains have no vendor pattern: each one is listed in PLATFORM_ALLOWED_HOSTS)."""
    return platform_base_url(
        credentials.base_url,
        credentials.domain,
        pattern=DOMAIN_RE,
        template="https://{name}/api/",
        invalid="The custom domain {name!r} is not valid: use the host name only, "
        "e.g. learn.acme.com.",
    )


def error_for_code(code: str, *, status: int | None, excerpt: str = "") -> PlatformApiError:
    """The client error for a Coursebase error code, with a message an admin can act on."""
    if code in AUTH_CODES:
        return PlatformAuthError(
            f"Coursebase rejected the API token ({code}): check it, or create a new one.",
            status=status,
            excerpt=excerpt,
        )
    if code in RATE_CODES:
        return PlatformRetryLater(
            f"Coursebase is rate-limiting requests ({code}).", retry_after=60.0, status=status
        )
    message = ERROR_MESSAGES.get(code, f"Coursebase refused the request ({code or 'no code'}).")
    cls = PlatformNotFound if code.endswith("not_found") else PlatformApiError
    return cls(message, status=status, excerpt=excerpt)


class CoursebaseClient(JsonHttpClient):
    """Client of one Coursebase org (read-only: LMS Bridge imports its directory)."""

    vendor = "Coursebase"
    errors = PLATFORM_ERRORS
    settings_prefix = "PLATFORM"

    def __init__(self, credentials: CoursebaseCredentials, **kwargs: Any) -> None:
        super().__init__(
            build_base_url(credentials),
            headers={"Authorization": f"Bearer {credentials.token}"},
            secrets=(credentials.token,),
            **kwargs,
        )

    def _detail(self, payload: Any) -> str:
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            return payload["error"]
        return ""

    def _http_error(self, response: requests.Response) -> PlatformApiError:
        code = self._detail_of(response.text)
        if code and response.status_code not in (401, 403) and response.status_code < 500:
            return error_for_code(
                code, status=response.status_code, excerpt=self._excerpt(response.text)
            )
        return super()._http_error(response)

    # ------------------------------------------------------------------ RPC

    def rpc(self, method: str, body: Mapping[str, Any] | None = None, *, read: bool = True) -> Any:
        """Call one method and return its `data` (errors raised as client errors)."""
        result = self.call("POST", method, body=dict(body or {}), idempotent=read)
        payload = result.payload
        if not isinstance(payload, dict) or payload.get("status") not in ("success", "error"):
            raise PlatformBadResponse(
                "Coursebase answered with JSON that is not its envelope (status, data).",
                status=result.status,
                excerpt=self._excerpt(repr(payload)),
            )
        if payload["status"] == "error":
            code = self._quote(payload["error"]) if isinstance(payload.get("error"), str) else ""
            raise error_for_code(code, status=result.status, excerpt=self._excerpt(repr(payload)))
        return payload.get("data")

    def iter_cursor(
        self, method: str, key: str, body: Mapping[str, Any] | None = None
    ) -> Iterator[list[dict]]:
        """Every page of a paginated method: the same body plus `next` until `next` is null."""
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            data = self.rpc(method, {**(body or {}), **({"next": cursor} if cursor else {})})
            items = data.get(key) if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise PlatformBadResponse(f"Coursebase's {method} answer has no {key} list.")
            yield items
            cursor = data.get("next")
            if not cursor:
                return
            if not isinstance(cursor, str) or cursor in seen:
                raise PlatformBadResponse(f"Coursebase's {method} cursor does not move on.")
            seen.add(cursor)
        raise PlatformBadResponse(f"Coursebase kept announcing pages of {method}.")

    # ------------------------------------------------------------------ directory

    def list_groups(self) -> list[dict]:
        # Coursebase API, org.groups.list: every group with its parent_id (null: the org level)
        data = self.rpc("org.groups.list")
        if not isinstance(data, list):
            raise PlatformBadResponse("Coursebase's org.groups.list answer is not a list.")
        return data

    def iter_user_pages(self) -> Iterator[list[dict]]:
        # Coursebase API, org.users.list: paginated users of the org (user_id, login_id)
        return self.iter_cursor("org.users.list", "users")

    def iter_group_member_pages(self, group_id: str) -> Iterator[list[dict]]:
        # Coursebase API, group.users.list: paginated users of a group (user_id, login_id, role)
        return self.iter_cursor("group.users.list", "users", {"group_id": group_id})

    def check_connection(self) -> CredentialCheck:
        """Test connection: one `org.groups.list` call; never raises, never waits out a 429."""
        try:
            with self.within_a_web_request():
                groups = self.list_groups()
        except PlatformApiError as exc:
            return verdict_for(exc)
        return CredentialCheck(
            ok=True,
            verdict="ok",
            message=f"Connected to Coursebase at {self.host}: {len(groups)} group(s).",
        )

    # ------------------------------------------------------------------ courses and reports

    def iter_course_pages(self) -> Iterator[list[dict]]:
        # Coursebase API, org.courses.list: paginated courses of the org (course_id, title)
        return self.iter_cursor("org.courses.list", "courses")

    def report_export(self, report_type: str, *, language: str, time_zone: str) -> dict:
        """Coursebase API, report.export: start (or, if one is running, join) the export of a
        report type; answers its status ("pending", "started", "finished")."""
        body = {"report_type": report_type, "language": language, "time_zone": time_zone}
        return self._status_data(self.rpc("report.export", body), "report.export")

    def report_status(self, report_type: str) -> dict:
        """Coursebase API, report.export.status: the export's status; once "finished", its
        `url` (valid for an hour), `row_count` and `data_updated_at`. `not_found` (raised as
        `PlatformNotFound`) after that hour or when no export was started."""
        data = self.rpc("report.export.status", {"report_type": report_type})
        return self._status_data(data, "report.export.status")

    def _status_data(self, data: Any, method: str) -> dict:
        if not isinstance(data, dict) or data.get("status") not in (
            "pending",
            "started",
            "finished",
        ):
            raise PlatformBadResponse(f"Coursebase's {method} answer has no known status.")
        if data["status"] == "finished" and not isinstance(data.get("url"), str):
            raise PlatformBadResponse(f"Coursebase's {method} answer has no download URL.")
        return data

    def download_export(self, url: str, out: IO[bytes]) -> int:
        """Write the export's zip at `url` into `out`; the bytes written. No token is sent (the
        URL is signed); its host must be Coursebase's storage or allow-listed. Raises
        `LinkExpired` when the link has expired (ask for a new export)."""
        patterns = allowed_host_patterns(STORAGE_HOSTS, ALLOWED_HOSTS_SETTING)
        url = checked_download_url(
            url, patterns=patterns, setting_name=ALLOWED_HOSTS_SETTING, error=PlatformConfigError
        )
        self.request_count += 1
        return download_to(
            out,
            url,
            errors=self.errors,
            vendor=self.vendor,
            max_bytes=int(float(setting("REPORT_MAX_DOWNLOAD_MB", 200)) * 2**20),
            deadline_s=float(setting("REPORT_DOWNLOAD_DEADLINE", 600.0)),
            timeout=(self.connect_timeout, self.read_timeout),
            sleep=self._sleep,
        )
