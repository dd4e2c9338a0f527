"""Catalog push to LearnUpon: the group's synced courses → LearnUpon courses in the portal catalog.

Per course, the ledger decides the steps (LearnUpon API, "Courses" and "Group Courses"):
create (`POST /courses`, `cataloged` as the admin chose) → publish (`POST /courses/publish`);
listed in the catalog, learners find the course and enroll themselves. Only when the
connection's `auto_enroll` is on, and within the confirmed number of enrollments
(`consent.link_decision`), is the course also attached to the target group
(`POST /group_courses`), which enrolls every member of that group and every later joiner.
A changed course is updated (`PUT /courses/{id}`); an archived course is detached
(`DELETE /group_courses/{id}`, enrollments kept), never deleted; a link marked `unlink` in the
ledger (auto-enrollment turned off, or an earlier version's link undone) is detached too.
Unchanged courses send nothing. Before creating,
the portal's courses are listed once and matched by `reference_code`, so a course created by a
push that crashed before saving its ledger row is adopted, not created twice; the target group's
courses are listed once so an existing attachment is reused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from catalog.models import Course
from integrations.models import PlatformConnection, PlatformLedgerItem

from ..base import PlatformNotFound, PlatformRejected
from ..ledger import DONE_EARLIER, LedgerPusher, PushJob, ledger_items, ledger_sent
from .client import LearnUponClient
from .consent import LinkDecision, courses_to_link, link_decision
from .mapping import CourseSnapshot, course_fields, fingerprint, reference_code
from .push_steps import COURSE, ITEM_ERRORS, StepPlanner, push_stream

DONE = {
    "create": "created",
    "update": "updated",
    "publish": "published",
    "attach": "attached",
    "detach": "detached",
}


@dataclass
class CourseStep:
    """The steps one course needs; `fields`/`fp` are what create/update send."""

    course: CourseSnapshot
    status: str
    item: PlatformLedgerItem
    actions: list[str]
    fields: dict[str, Any] = field(default_factory=dict)
    fp: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "type": "course",
            "id": self.course.local_id,
            "action": "+".join(self.actions),
            "title": self.course.title,
            "reference_code": reference_code(self.course.kind, self.course.external_id),
        }


def snapshot(course: Course) -> CourseSnapshot:
    return CourseSnapshot(
        local_id=str(course.pk),
        kind=course.kind,
        external_id=course.external_id,
        title=course.title,
        description=course.description,
        duration_minutes=course.duration_minutes,
        tags=tuple(tag.name for tag in course.tags.all()),
        url=course.launch_url,
    )


def _actions(item: PlatformLedgerItem | None, fp: str, target: str) -> list[str]:
    """The steps an active course needs, from its ledger row (None: never sent). `target` is
    the group to link to ('' without auto-enrollment: an existing link stays unless marked
    `unlink`)."""
    if item is None or not item.remote_id:
        return ["create", "publish", *(["attach"] if target else [])]
    actions = []
    if item.fingerprint != fp:
        actions.append("update")
    if not item.state.get("published"):
        actions.append("publish")
    attached = item.state.get("group_id") or ""
    if attached and attached != target and (target or item.state.get("unlink")):
        actions.append("detach")
    if target and attached != target:
        actions.append("attach")
    return actions


def plan_courses(
    *, connection: PlatformConnection, target: str | None = None, since=None
) -> Iterator[CourseStep | str | None]:
    """One `CourseStep` per course that needs something, `None` per unchanged course.

    `target`: the group courses may be linked to ('' → none; None → the connection's choice
    as it stands, without the consent check of `consent.link_decision`). `since`: a resumed
    push's start; a course it already sent in full, or saw refused, is `DONE_EARLIER`."""
    planner = StepPlanner(connection, COURSE, since)
    owner = connection.learnupon_owner_id
    cataloged = bool(connection.learnupon_cataloged)  # a push without the choice is refused
    if target is None:
        target = connection.target_group_id if connection.auto_enroll else ""
    courses = Course.objects.filter(group=connection.group).prefetch_related("tags").order_by("pk")
    for course in courses.iterator(chunk_size=500):
        item = planner.items.get(str(course.pk))
        shot = snapshot(course)
        if course.status == Course.Status.ACTIVE:
            fields = course_fields(shot, owner_id=owner, cataloged=cataloged)
            fp = fingerprint(fields)
            actions = _actions(item, fp, target)
        else:  # archived: detach from the group, keep the LearnUpon course
            fields, fp = {}, ""
            actions = ["detach"] if item and item.state.get("group_course_id") else []
        verdict = planner.verdict(shot.local_id, needed=bool(actions), settled=not actions)
        if verdict is None or verdict == DONE_EARLIER:
            yield verdict
            continue
        yield CourseStep(shot, course.status, verdict, actions, fields, fp)


@dataclass
class CoursePusher(LedgerPusher):
    """Executes course steps against one portal, recording each step in the ledger."""

    connection: PlatformConnection
    client: LearnUponClient
    _by_reference: dict[str, dict] | None = None
    _attached: dict[str, str] | None = None

    def push(self, step: CourseStep) -> bool:
        """Run the steps of one course; a refusal is recorded and returns False."""
        try:
            for action in step.actions:
                getattr(self, f"_{action}")(step)
                self.count(DONE[action])
        except ITEM_ERRORS as exc:
            self._refused(step, exc)
            return False
        return True

    def _refused(self, step: CourseStep, exc: PlatformRejected | PlatformNotFound) -> None:
        message = exc.message
        if (
            isinstance(exc, PlatformNotFound)
            and step.item.remote_id
            and "create" not in step.actions
        ):
            # Deleted in LearnUpon: forget it, the next push creates it again.
            step.item.remote_id, step.item.fingerprint, step.item.state = "", "", {}
            message += " The course is gone from LearnUpon: the next push creates it again."
        self.refused(
            step.item, exc, category="course_refused", message=f"{step.course.title}: {message}"
        )

    # ------------------------------------------------------------------ steps

    def _create(self, step: CourseStep) -> None:
        code = step.fields["reference_code"]
        existing = self._existing_by_reference().get(code)
        if existing is None:
            # LearnUpon API, "Create a course": POST /courses
            remote_id = self.client.create_course(step.fields)
            ledger_sent(step.item, status_code=201, remote_id=remote_id, fingerprint=step.fp)
            return
        # Created by a push that died before its ledger row was saved: adopt it, then bring
        # it up to date (the fields may have changed since).
        published = existing.get("published_status_id") == "published"
        ledger_sent(step.item, remote_id=str(existing["id"]), state={"published": published})
        self.count("adopted")
        self._update(step)  # then `_publish` skips a course that is already published

    def _update(self, step: CourseStep) -> None:
        # LearnUpon API, "Update courses": PUT /courses/{id}
        self.client.update_course(step.item.remote_id, step.fields)
        ledger_sent(step.item, fingerprint=step.fp)

    def _publish(self, step: CourseStep) -> None:
        if step.item.state.get("published"):
            return
        # LearnUpon API, "Publish courses": POST /courses/publish
        self.client.publish_course(step.item.remote_id)
        ledger_sent(step.item, state={"published": True})

    def _attach(self, step: CourseStep) -> None:
        target = self.connection.target_group_id
        link_id = self._existing_attachments().get(step.item.remote_id)
        if link_id is None:
            # LearnUpon API, "Create a GroupCourse": POST /group_courses
            link_id = self.client.create_group_course(
                target,
                step.item.remote_id,
                re_enroll_completed=self.connection.re_enroll_completed,
            )
        ledger_sent(
            step.item, status_code=201, state={"group_id": target, "group_course_id": link_id}
        )

    def _detach(self, step: CourseStep) -> None:
        link_id = step.item.state.get("group_course_id")
        if link_id:
            # Already detached in LearnUpon (404): the goal is reached all the same.
            with suppress(PlatformNotFound):
                # LearnUpon API, "Delete a GroupCourse": DELETE /group_courses/{id}
                self.client.delete_group_course(link_id)
        ledger_sent(step.item, state={"group_id": "", "group_course_id": "", "unlink": False})

    # ------------------------------------------------------------------ one-time reads

    def _existing_by_reference(self) -> dict[str, dict]:
        if self._by_reference is None:
            # LearnUpon API, "Search for courses": GET /courses?include_draft=true
            self._by_reference = {
                str(c.get("reference_code")): c
                for page in self.client.iter_course_pages()
                for c in page
                if c.get("reference_code")
            }
        return self._by_reference

    def _existing_attachments(self) -> dict[str, str]:
        if self._attached is None:
            target = self.connection.target_group_id
            # LearnUpon API, "List your GroupCourses": GET /group_courses?group_id=
            self._attached = {
                str(gc.get("course_id")): str(gc.get("id"))
                for page in self.client.iter_group_course_pages(target)
                for gc in page
            }
        return self._attached


def push_courses(job: PushJob) -> tuple[dict[str, int], LinkDecision]:
    """Push (or, dry, list) what the catalog needs; returns the counts by step and whether
    links waited for a confirmation (the courses themselves are pushed either way)."""
    connection = job.connection
    decision = link_decision(
        connection=connection,
        client=None if job.dry_run else job.client,
        run_id=job.run.pk,
    )
    waiting = courses_to_link(connection=connection) if decision.blocked else 0
    steps = plan_courses(connection=connection, target=decision.target, since=job.resumed_since)
    counts = push_stream(
        job,
        "courses",
        ("unchanged" if step is None else step for step in steps),
        lambda client: CoursePusher(job.run, connection, client),
        "unchanged",
    )
    if waiting:
        counts["link_waiting"] = waiting
    return counts, decision


def links_made(*, connection: PlatformConnection) -> list[PlatformLedgerItem]:
    """Ledger items whose course is linked to a LearnUpon group (earlier versions linked every
    pushed course): what the platform page lists so an admin can undo them."""
    items = ledger_items(connection=connection, item_type=COURSE).values()
    return sorted((item for item in items if item.state.get("group_course_id")), key=lambda i: i.pk)


def mark_unlink(*, connection: PlatformConnection) -> int:
    """Mark every linked course to be unlinked by the next push (enrollments are kept)."""
    marked = 0
    for item in links_made(connection=connection):
        item.state = {**item.state, "unlink": True}
        item.save(update_fields=["state"])
        marked += 1
    return marked
