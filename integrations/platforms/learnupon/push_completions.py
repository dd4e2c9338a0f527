"""Completion push to LearnUpon: completed Udemy attempts → enrollments marked complete.

A completion is one (learner, course) with a completed attempt: the learner is enrolled by
e-mail if not yet enrolled (`POST /enrollments`), then the enrollment is marked complete with
Udemy's completion date (`POST /markcompletes`, status `completed`) — LearnUpon API,
"Enrollments" and "MarkCompletes". The ledger (one row per learner × course, fingerprint of
e-mail, LearnUpon course and date) makes it happen once; a newer completion date sends a new
mark-complete. A completion waits ("pending") until its course has been pushed.

Which attempts count: completed ones (`completed_at` set) that Udemy reported — a provider
attempt, or a launched one whose statistics reached 100 % (a launch alone closes an attempt
at 0 %, which is not a Udemy completion) — of active learners of the connected group or of its
subgroups, on the group's courses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from catalog.models import Attempt, Group
from integrations.models import PlatformConnection, PlatformLedgerItem

from ..ledger import DONE_EARLIER, LedgerPusher, PushJob, ledger_items, ledger_sent
from .client import LearnUponClient
from .mapping import completion_fields, enrollment_is_complete, fingerprint
from .push_steps import COMPLETION, COURSE, ITEM_ERRORS, StepPlanner, push_stream


def group_subtree_ids(group: Group) -> set[int]:
    """The group and all its descendants (one query; trees are small)."""
    children: dict[int | None, list[int]] = {}
    for group_id, parent_id in Group.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(group_id)
    found, todo = {group.pk}, [group.pk]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def completion_rows(*, connection: PlatformConnection) -> Iterator[dict[str, Any]]:
    """(learner, course, latest completion) of the group's Udemy completions."""
    # The dashboards' definition: Udemy's completions, never a launch alone.
    udemy_completed = Attempt.completed_on_udemy_q()
    return (
        Attempt.objects.filter(
            udemy_completed,
            course__group=connection.group,
            completed_at__isnull=False,
            learner__is_active=True,
            learner__memberships__group_id__in=group_subtree_ids(connection.group),
        )
        .values("learner_id", "learner__email", "course_id", "course__title")
        .annotate(completed=Max("completed_at"))
        .order_by("learner_id", "course_id")
        .iterator(chunk_size=1000)
    )


@dataclass
class CompletionStep:
    item: PlatformLedgerItem
    fields: dict[str, str]
    fp: str
    title: str

    def describe(self) -> dict[str, Any]:
        return {
            "type": "completion",
            "id": self.item.local_id,
            "action": "enroll-if-needed+markcomplete",
            "title": self.title,
            "email": self.fields["email"],
            "date_completed": self.fields["date_completed"],
        }


def plan_completions(
    *, connection: PlatformConnection, since=None
) -> Iterator[CompletionStep | str]:
    """A step per completion to send; "unchanged" or "pending" (course not pushed) otherwise;
    `DONE_EARLIER` for one a resumed push (`since`: its start) already sent or saw refused."""
    pushed = {
        local_id: item.remote_id
        for local_id, item in ledger_items(connection=connection, item_type=COURSE).items()
        if item.remote_id and item.state.get("published")
    }
    planner = StepPlanner(connection, COMPLETION, since)
    for row in completion_rows(connection=connection):
        remote_course = pushed.get(str(row["course_id"]))
        if remote_course is None:
            yield "pending"
            continue
        local_id = f"{row['learner_id']}:{row['course_id']}"
        fields = completion_fields(
            email=row["learner__email"], course_id=remote_course, completed_at=row["completed"]
        )
        fp = fingerprint(fields)
        item = planner.items.get(local_id)
        same = item is not None and item.fingerprint == fp
        needed = not same or item.is_errored
        verdict = planner.verdict(local_id, needed=needed, settled=same)
        if verdict is None or verdict == DONE_EARLIER:
            yield verdict or "unchanged"
            continue
        yield CompletionStep(verdict, fields, fp, row["course__title"])


@dataclass
class CompletionPusher(LedgerPusher):
    """Enrolls and marks complete, one learner × course at a time, recording each in the ledger."""

    client: LearnUponClient
    _enrollments: dict[str, dict[str, dict]] = field(default_factory=dict)

    def push(self, step: CompletionStep) -> bool:
        email, course_id = step.fields["email"], step.fields["course_id"]
        try:
            enrollment = self._enrollment(email, course_id)
            if enrollment is None:
                # LearnUpon API, "Create an enrollment": POST /enrollments (by e-mail)
                enrollment_id = self.client.create_enrollment(email, course_id)
                self._enrollments[email][course_id] = {"id": enrollment_id}
                ledger_sent(step.item, status_code=201, remote_id=enrollment_id)
                self.count("enrolled")
            else:
                enrollment_id = str(enrollment["id"])
            resend = bool(step.item.fingerprint) and step.item.fingerprint != step.fp
            if resend or enrollment is None or not enrollment_is_complete(enrollment):
                # LearnUpon API, "Create MarkComplete": POST /markcompletes
                mark_id = self.client.create_markcomplete(
                    enrollment_id, step.fields["date_completed"]
                )
                self.count("marked")
            else:
                mark_id = step.item.state.get("markcomplete_id", "")
                self.count("already_complete")
        except ITEM_ERRORS as exc:
            message = f"{email} on {step.title}: {exc.message}"
            self.refused(step.item, exc, category="completion_refused", message=message)
            return False
        ledger_sent(
            step.item,
            status_code=201,
            remote_id=enrollment_id,
            fingerprint=step.fp,
            state={"markcomplete_id": mark_id},
        )
        return True

    def _enrollment(self, email: str, course_id: str) -> dict | None:
        """The learner's enrollment on the course, from one search per learner and push."""
        if email not in self._enrollments:
            # LearnUpon API, "Search for enrollments": GET /enrollments/search?email=
            self._enrollments[email] = {
                str(e.get("course_id")): e for e in self.client.enrollments_for_email(email)
            }
        return self._enrollments[email].get(course_id)


def push_completions(job: PushJob) -> dict[str, int]:
    """Push (or, dry, list) the completions; returns the counts by outcome."""
    return push_stream(
        job,
        "completions",
        plan_completions(connection=job.connection, since=job.resumed_since),
        lambda client: CompletionPusher(job.run, client),
        "unchanged",
        "pending",
    )
