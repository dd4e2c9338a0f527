"""Auto-enrollment consent: a number, checked by every push before it links a course.

Linking a course to a LearnUpon group enrolls every member of the group in it, and every later
joiner (LearnUpon API, "Group Courses": `POST /group_courses`). What the admin confirms is
therefore a count, courses × members: once the push has linked every active course, the group
holds that many enrollments from these links. A push whose links would add up to more than the
confirmed count (a Udemy sync brought courses, the group grew) links nothing more: the courses
are still created, updated and published, the run ends waiting for a confirmation that names
the new count, and the connection page and the API ask for it.

Counted from the whole of the links, not from each push's new ones: a consent for 20 is never
a consent for 20 more at every push.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from catalog.models import Course
from integrations.models import PlatformConnection, PlatformLedgerItem

from ..base import PlatformApiError
from ..ledger import ledger_items

COURSE = PlatformLedgerItem.ItemType.COURSE


@dataclass(frozen=True)
class EnrollmentEstimate:
    """The enrollments the links to the target group amount to: each course linked to it
    enrolls each of its members (LearnUpon API, "Group Courses")."""

    courses: int
    members: int

    @property
    def enrollments(self) -> int:
        return self.courses * self.members

    @property
    def message(self) -> str:
        return (
            f"{self.courses:,} courses × {self.members:,} members = "
            f"{self.enrollments:,} enrollments"
        )


@dataclass(frozen=True)
class LinkDecision:
    """What a push may do with links: `target` is the group to link to ('' → link nothing
    new, keep the links that exist); `waiting` says why not (empty when allowed)."""

    target: str
    waiting: dict[str, Any]

    @property
    def blocked(self) -> bool:
        return bool(self.waiting)


def courses_linked_when_done(*, connection: PlatformConnection) -> int:
    """The courses linked to the target group once a push has run: every active course."""
    return Course.objects.filter(group=connection.group, status=Course.Status.ACTIVE).count()


def courses_to_link(*, connection: PlatformConnection) -> int:
    """Active courses not linked to the target group yet (the database only)."""
    target = connection.target_group_id
    if not target:
        return 0
    linked = {
        item.local_id
        for item in ledger_items(connection=connection, item_type=COURSE).values()
        if item.state.get("group_id") == target and item.state.get("group_course_id")
    }
    active = Course.objects.filter(group=connection.group, status=Course.Status.ACTIVE)
    return sum(1 for pk in active.values_list("pk", flat=True) if str(pk) not in linked)


def waiting_message(estimate: EnrollmentEstimate, confirmed: int | None) -> str:
    said = "none" if confirmed is None else f"{confirmed:,}"
    return f"Waiting for your confirmation: {estimate.message}, you confirmed {said}"


def consent_covers(connection: PlatformConnection, estimate: EnrollmentEstimate) -> bool:
    confirmed = connection.auto_enroll_consent
    return confirmed is not None and estimate.enrollments <= confirmed


def link_decision(
    *, connection: PlatformConnection, client: Any | None, run_id: int | None
) -> LinkDecision:
    """Whether this push may link courses to the target group.

    Only a push that would link a course is checked. It counts the group's members (one paged
    `GET /group_memberships`); a dry run sends nothing and uses the count seen last."""
    target = connection.target_group_id if connection.auto_enroll else ""
    if not target or not courses_to_link(connection=connection):
        return LinkDecision(target, {})
    courses = courses_linked_when_done(connection=connection)
    try:
        members = _members(connection, client)
    except PlatformApiError as exc:
        reason = f"the members of group {target} could not be counted: {exc.message}"
        return LinkDecision("", _waiting(connection, courses, None, run_id, reason))
    estimate = EnrollmentEstimate(courses=courses, members=members if members is not None else 0)
    if members is not None and consent_covers(connection, estimate):
        return LinkDecision(target, {})
    return LinkDecision("", _waiting(connection, courses, members, run_id))


def _members(connection: PlatformConnection, client: Any | None) -> int | None:
    if client is not None:
        # LearnUpon API, "Group Memberships": GET /group_memberships?group_id=
        return client.count_group_members(connection.target_group_id)
    waiting = connection.auto_enroll_waiting or {}
    seen = waiting.get("members")
    return seen if seen is not None else connection.auto_enroll_consent_members


def _waiting(
    connection: PlatformConnection,
    courses: int,
    members: int | None,
    run_id: int | None,
    reason: str = "",
) -> dict[str, Any]:
    estimate = EnrollmentEstimate(courses=courses, members=members or 0)
    confirmed = connection.auto_enroll_consent
    if members is None:
        message = (
            f"Waiting for your confirmation: {courses:,} courses to link to group "
            f"{connection.target_group_id}, {reason or 'its members are not counted yet'}"
        )
    else:
        message = waiting_message(estimate, confirmed)
    return {
        "courses": courses,
        "members": members,
        "enrollments": estimate.enrollments if members is not None else None,
        "confirmed": confirmed,
        "run": run_id,
        "at": timezone.now().isoformat(),
        "message": message + ". Nothing was linked: confirm the new number to link them.",
    }


def waiting_record(*, connection: PlatformConnection, decision: LinkDecision) -> None:
    """Keep what the last (real) push could not link, or clear it once links go through."""
    if connection.auto_enroll_waiting == decision.waiting:
        return
    connection.auto_enroll_waiting = decision.waiting
    PlatformConnection.objects.filter(pk=connection.pk).update(auto_enroll_waiting=decision.waiting)
