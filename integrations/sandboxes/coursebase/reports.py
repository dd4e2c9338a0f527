"""The courses and report exports of the Coursebase sandbox, as strict as the Coursebase API.

- `org.courses.list`: the org's courses, cursor-paged like the other lists.
- `org.reports.list`: the org's saved reports (report_id, title, type).
- `report.export`: validates `report_type` (the `udemy_*` types are "only valid for certain
  orgs": refused with `invalid_report_type` unless `udemy_reports=True`), `language` and
  `time_zone` (both required); "only one report of each type can be exported at a time": while
  one runs, a new request answers its status and starts nothing.
- `report.export.status`: `not_found` when no export was started; otherwise pending → started
  → finished as it is polled (`polls_to_finish`); finished gives `row_count`,
  `data_updated_at` and a signed `url` "available for one hour" (`url_ttl`), after which the
  status answers `not_found` and the URL 403 (as a storage service does).
- the zip: a real zip holding one CSV (columns in `COLUMNS`, since Coursebase does not document
  them), served under `/storage/` without the API token; `content` per report type can make it
  not a zip, a zip with no CSV, a CSV with a wrong header or with a bad row; `never_finish`
  keeps an export pending.
The clock (`now`) is replaceable, so a test moves past the hour without waiting.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..exchange import Reply, iso

# The report types of `report.export` as Coursebase documents them, spelled here apart from the
# client's list: a typo on either side then fails a test instead of agreeing with itself.
REPORT_TYPES = frozenset(
    {"activities", "activity_solutions", "courses", "learners", "people", "submission_answers",
     "submission_rates", "submissions", "video_analytics", "udemy_user_activity",
     "udemy_user_course_activity", "udemy_user_progress"}
)  # fmt: skip
LANGUAGES = frozenset(
    {"en", "ja", "es", "zh_CN", "zh_TW", "fr", "vi", "de", "id", "it", "ko", "pt", "ru", "th"}
)
UDEMY_TYPES = frozenset(t for t in REPORT_TYPES if t.startswith("udemy_"))
STORAGE_PREFIX = "/storage/report-exports/"
EXPIRED_BODY = (
    b"<?xml version='1.0'?><Error><Code>AccessDenied</Code>"
    b"<Message>Request has expired</Message></Error>"
)
CONTENTS = ("ok", "not_zip", "no_csv", "bad_header", "bad_row", "empty")
COLUMNS = {
    "courses": ["Course ID", "Course title", "Learners", "Completed", "Completion rate (%)"],
    "learners": [
        "User ID", "Login ID", "Course ID", "Course title", "Status", "Progress (%)",
        "Completed at",
    ],
}  # fmt: skip
# Coursebase's export of Udemy's user-course-activity (its columns are not documented either):
# Udemy's field names, as a report shows them.
UDEMY_ACTIVITY_COLUMNS = {
    "User Email": "user_email", "Course ID": "course_id", "Course Title": "course_title",
    "Course Enroll Date": "course_enroll_date", "Course Start Date": "course_start_date",
    "Course Last Accessed Date": "course_last_accessed_date",
    "Course Completion Date": "course_completion_date", "Completion Ratio": "completion_ratio",
    "Num Video Consumed Minutes": "num_video_consumed_minutes",
}  # fmt: skip
COURSE_TITLES = [
    "Python for Data Analysis", "Leadership Essentials", "Excel from Beginner to Advanced",
    "Agile Project Management", "Public Speaking Masterclass", "Cloud Computing Basics",
]  # fmt: skip


@dataclass
class Export:
    report_type: str
    language: str
    time_zone: str
    status: str = "pending"
    polls: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    token: str = ""
    row_count: int = 0


@dataclass
class ReportsData:
    """Courses and per-learner progress of the sandbox org (filled by `generate`)."""

    courses: list[dict] = field(default_factory=list)
    # (user_id, course_id) -> {"status", "progress", "completed_at"}
    progress: dict[tuple[str, str], dict] = field(default_factory=dict)
    # Rows of the udemy_user_course_activity report, with Udemy's field names (as strings)
    udemy_activity: list[dict] = field(default_factory=list)

    @classmethod
    def generate(cls, users: list[dict], titles: list[str] | None = None) -> ReportsData:
        data = cls()
        for i, title in enumerate(titles if titles is not None else COURSE_TITLES, start=1):
            data.courses.append({"course_id": f"cbc{i:05d}", "title": title})
        for u, user in enumerate(users):
            for c, course in enumerate(data.courses):
                if (u + c) % 3 == 2:
                    continue  # not every learner is on every course
                progress = [0, 35, 100][(u * 7 + c) % 3]
                data.set_progress(user["user_id"], course["course_id"], progress)
        return data

    def set_progress(self, user_id: str, course_id: str, progress: float) -> None:
        status = "completed" if progress >= 100 else "in_progress" if progress else "not_started"
        done = "2026-11-20T09:30:00Z" if status == "completed" else ""
        self.progress[(user_id, course_id)] = {
            "status": status, "progress": progress, "completed_at": done,
        }  # fmt: skip


class SandboxReports:
    """The report-export state machine of one sandbox org (called under the server's lock)."""

    def __init__(
        self,
        data: ReportsData,
        users: Callable[[], list[dict]],
        *,
        polls_to_finish: int = 2,
        url_ttl: float = 3600.0,
        udemy_reports: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.data, self._users = data, users
        self.polls_to_finish, self.url_ttl, self.udemy_reports = (
            polls_to_finish,
            url_ttl,
            udemy_reports,
        )
        self.now = now
        self.exports: dict[str, Export] = {}
        self.files: dict[str, tuple[bytes, float]] = {}  # token -> (zip, expires at)
        self.content: dict[str, str] = {}  # report type -> one of CONTENTS
        self.never_finish: set[str] = set()
        self.export_requests: list[dict] = []
        self.downloads = 0
        self.download_auth: list[str] = []  # the Authorization header of each download ("")

    # -------------------------------------------------------------- report.export

    def start(self, body: dict) -> tuple[str | None, dict]:
        """(error code, data) of a report.export request."""
        self.export_requests.append(dict(body))
        report_type = body.get("report_type")
        if "report_id" in body and report_type is None:
            return "invalid_report_id", {}
        if report_type not in REPORT_TYPES or (
            report_type in UDEMY_TYPES and not self.udemy_reports
        ):
            return "invalid_report_type", {}
        if body.get("language") not in LANGUAGES:
            return "invalid_language", {}
        try:
            ZoneInfo(str(body.get("time_zone")))
        except (ZoneInfoNotFoundError, ValueError):
            return "invalid_time_zone", {}
        current = self.exports.get(report_type)
        if current is None or current.status == "finished":
            current = Export(report_type, body["language"], body["time_zone"])
            self.exports[report_type] = current
        return None, self._describe(current)

    # -------------------------------------------------------------- report.export.status

    def status(self, body: dict) -> tuple[str | None, dict]:
        report_type = body.get("report_type")
        if report_type not in REPORT_TYPES:
            return "invalid_report_type", {}
        export = self.exports.get(report_type)
        if export is None:
            return "not_found", {}
        if export.status == "finished":
            if self.now() > export.finished_at.timestamp() + self.url_ttl:
                del self.exports[report_type]  # "you will receive a not_found error"
                return "not_found", {}
            return None, self._describe(export)
        export.polls += 1
        if report_type in self.never_finish:
            return None, self._describe(export)
        if export.status == "pending":
            export.status, export.started_at = "started", self._moment()
        elif export.polls >= self.polls_to_finish:
            self._finish(export)
        return None, self._describe(export)

    def _finish(self, export: Export) -> None:
        payload, rows = self._zip(export.report_type, export.time_zone)
        export.status, export.finished_at, export.row_count = "finished", self._moment(), rows
        export.token = secrets.token_urlsafe(12)
        self.files[export.token] = (payload, self.now() + self.url_ttl)

    def _moment(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def _describe(self, export: Export) -> dict:
        data = {"status": export.status, "report_type": export.report_type,
                "language": export.language, "time_zone": export.time_zone}  # fmt: skip
        if export.started_at:
            data["started_at"] = iso(export.started_at)
        if export.status == "finished":
            data.update(
                finished_at=iso(export.finished_at),
                data_updated_at=iso(export.finished_at - timedelta(hours=2)),
                row_count=export.row_count,
                url=f"{self.base_url}{STORAGE_PREFIX}{export.token}/{export.report_type}.zip"
                f"?X-Amz-Expires={int(self.url_ttl)}&X-Amz-Signature={export.token[:8]}",
            )
        return data

    base_url = ""  # set by the server once it listens

    # -------------------------------------------------------------- the file

    def download(self, path: str) -> Reply:
        self.downloads += 1
        token = path.removeprefix(STORAGE_PREFIX).split("/", 1)[0]
        payload, expires = self.files.get(token, (b"", 0.0))
        if not payload or self.now() > expires:
            body = EXPIRED_BODY
            return Reply(403, body, "application/xml")
        return Reply(200, payload, "application/zip")

    def _zip(self, report_type: str, time_zone: str = "UTC") -> tuple[bytes, int]:
        content = self.content.get(report_type, "ok")
        if content == "not_zip":
            return b"<html><body>Export failed</body></html>", 0
        header, rows = self._table(report_type)
        # Coursebase API, report.export: "The time zone used for date values in the report":
        # dates are written in the requested zone, without an offset.
        zone = ZoneInfo(time_zone)
        rows = [[_local(cell, zone) for cell in row] for row in rows]
        if content == "bad_header":
            header = ["Something", "Else"]
        if content == "bad_row" and rows:
            rows[0] = [cell if i != len(header) - 2 else "lots" for i, cell in enumerate(rows[0])]
        text = io.StringIO()
        writer = csv.writer(text)
        if content != "empty":
            writer.writerow(header)
            writer.writerows(rows)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            name = f"{report_type.title()}.{'txt' if content == 'no_csv' else 'csv'}"
            archive.writestr(name, text.getvalue().encode("utf-8-sig"))
        return buffer.getvalue(), len(rows)

    def _table(self, report_type: str) -> tuple[list[str], list[list[str]]]:
        titles = {c["course_id"]: c["title"] for c in self.data.courses}
        logins = {u["user_id"]: u["login_id"] for u in self._users()}
        entries = [(k, v) for k, v in self.data.progress.items() if k[0] in logins]
        if report_type == "learners":
            rows = [
                [user_id, logins[user_id], course_id, titles.get(course_id, ""),
                 p["status"].replace("_", " ").title(), f"{p['progress']:g}", p["completed_at"]]
                for (user_id, course_id), p in entries
            ]  # fmt: skip
            return COLUMNS["learners"], rows
        if report_type == "udemy_user_course_activity":
            header = list(UDEMY_ACTIVITY_COLUMNS)
            keys = list(UDEMY_ACTIVITY_COLUMNS.values())
            return header, [
                [str(row.get(k) or "") for k in keys] for row in self.data.udemy_activity
            ]
        if report_type != "courses":
            return ["Report"], []  # other types: an empty table of their own
        rows = []
        for course in self.data.courses:
            mine = [p for (_, c), p in entries if c == course["course_id"]]
            done = sum(1 for p in mine if p["status"] == "completed")
            rate = f"{100 * done / len(mine):.1f}" if mine else ""
            rows.append([course["course_id"], course["title"], str(len(mine)), str(done), rate])
        return COLUMNS["courses"], rows


def _local(cell: str, zone: ZoneInfo) -> str:
    """A UTC timestamp of the data ("…Z") as the report writes it: local time in `zone`."""
    if not (len(cell) >= 20 and cell.endswith("Z") and cell[4] == "-" and "T" in cell):
        return cell
    try:
        moment = datetime.fromisoformat(cell.replace("Z", "+00:00"))
    except ValueError:
        return cell
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
