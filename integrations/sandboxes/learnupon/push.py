"""The push side of the LearnUpon sandbox, as strict as the LearnUpon API v1: courses (+ publish,
PUT), group courses, enrollments (+ search) and mark-completes. Linking a course to a group
(`POST /group_courses`, `re_enroll_completed` mandatory) enrolls the group's members; a course
owner must be an admin or an instructor with `tutor_can_create_courses`; `description_max`
makes a longer course description a 400, as a portal's limit does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..exchange import Reply, Request, json_reply
from .data import ANCHOR, COMPLETE, LearnUponData, iso
from .replies import error_reply, int_or_none


class PushEndpoints:
    """The handlers of the push's endpoints, mixed into `LearnUponSandbox` (which routes to
    them under its lock, and pages their lists)."""

    data: LearnUponData
    description_max: int | None
    _paged: Callable[[list[dict], str, dict[str, str]], Reply]

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
            return error_reply(400, "name is required")
        if (refused := self._too_long(fields)) is not None:
            return refused
        owner = next((u for u in self.data.users if u["id"] == fields.get("owner_id")), None)
        if owner is None or not _may_create_courses(owner):
            return error_reply(400, "owner_id must be a portal administrator or instructor")
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
            return error_reply(400, f"description is too long (maximum is {limit} characters)")
        return None

    def _publish_course(self, request: Request) -> Reply:
        course = self.data.courses.get(int_or_none((request.body or {}).get("course_id")))
        if course is None:
            return error_reply(404, "Course not found")
        if course["published_status_id"] != "draft":
            return error_reply(400, "Courses must be in draft state to publish")
        course["published_status_id"], course["date_published"] = "published", iso(ANCHOR)
        return json_reply(200, {"id": course["id"]})

    def _update_course(self, request: Request, course_id: str) -> Reply:
        course = self.data.courses.get(int(course_id))
        if course is None:
            return error_reply(404, "Course not found")
        fields = _object(request.body, "Course")
        if (refused := self._too_long(fields)) is not None:
            return refused
        course.update(_course_attributes(fields))
        return json_reply(200, {"id": course["id"]})

    def _list_group_courses(self, request: Request) -> Reply:
        group_id = int_or_none(request.query.get("group_id"))
        if group_id is None and "group_id" in request.query:
            return error_reply(404, "Invalid parameters: group_id must be a numeric group id")
        items = [
            gc for gc in self.data.group_courses.values() if group_id in (None, gc["group_id"])
        ]
        return self._paged(items, "group_courses", request.query)

    def _create_group_course(self, request: Request) -> Reply:
        link = _object(request.body, "GroupCourse")
        body = request.body if isinstance(request.body, dict) else {}
        re_enroll = _bool(body.get("re_enroll_completed"))
        if re_enroll is None:
            return error_reply(400, "re_enroll_completed is required")
        group_id, course_id = int_or_none(link.get("group_id")), int_or_none(link.get("course_id"))
        group = next((g for g in self.data.groups if g["id"] == group_id), None)
        course = self.data.courses.get(course_id)
        if group is None or course is None:
            return error_reply(404, "Group or course not found")
        if course["published_status_id"] != "published":
            return error_reply(400, "Only published courses can be added to a group")
        if any(
            gc["group_id"] == group_id and gc["course_id"] == course_id
            for gc in self.data.group_courses.values()
        ):
            return error_reply(400, "This course is already assigned to this group")
        link_id = self.data.link(group, course, re_enroll)
        return json_reply(201, {"id": link_id})

    def _delete_group_course(self, request: Request, link_id: str) -> Reply:
        if self.data.group_courses.pop(int(link_id), None) is None:
            return error_reply(404, "GroupCourse not found")
        return json_reply(200, {"message": "success"})

    # ------------------------------------------------------------------ enrollments

    def _search_enrollments(self, request: Request) -> Reply:
        email = request.query.get("email", "").lower()
        if not email:
            return error_reply(404, "Invalid parameters")
        items = [e for e in self.data.enrollments.values() if e["email"].lower() == email]
        return self._paged(items, "enrollments", request.query)

    def _create_enrollment(self, request: Request) -> Reply:
        fields = _object(request.body, "Enrollment")
        user = self.data.user_by_email(str(fields.get("email", "")))
        course = self.data.courses.get(int_or_none(fields.get("course_id")))
        if user is None:
            return error_reply(400, "Failed to find the user specified")
        if course is None or course["published_status_id"] != "published":
            return error_reply(400, "Not authorised for that course or course not found")
        enrollment_id = self.data.enroll(user, course)
        if enrollment_id is None:
            return error_reply(400, "User is already enrolled on this course")
        return json_reply(201, {"id": enrollment_id, "created_at": iso(ANCHOR)})

    def _list_markcompletes(self, request: Request) -> Reply:
        return self._paged(self.data.markcompletes, "markcompletes", request.query)

    def _create_markcomplete(self, request: Request) -> Reply:
        fields = _object(request.body, "Markcomplete")
        enrollment = self.data.enrollments.get(int_or_none(fields.get("enrollment_id")))
        status = fields.get("status")
        if enrollment is None:
            return error_reply(404, "Enrollment not found")
        if status not in COMPLETE:
            return error_reply(400, "status must be one of completed, passed, failed")
        if status != "completed" and fields.get("percentage") is None:
            return error_reply(400, "percentage is required for passed or failed")
        try:
            datetime.strptime(str(fields.get("date_completed")), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return error_reply(400, "date_completed must be YYYY-MM-DDTHH:MI:SSZ")
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
