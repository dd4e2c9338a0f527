"""Write side of the platform: groups, learners, launching a course (START)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Attempt, Course, Group, Learner, Membership


@transaction.atomic
def attempt_launch(*, learner: Learner, course: Course) -> Attempt:
    """360Learning rule: "When a learner launches a course from 360Learning, the course is
    marked as completed, and the progress is set to 0%. The connector updates the statistics
    at the next daily synchronization."

    - an opened attempt is closed by the launch: completed now, progress 0 %;
    - one open launch per learner and course: while the launch's attempt has not been through a
      statistics sync yet, START again returns it (no new attempt, no second completion);
    - otherwise (the latest attempt is closed and synced) a new attempt is recorded.
    """
    now = timezone.now()
    latest = _latest_attempt(learner, course)
    if latest is not None and _is_unsynced_launch(latest):
        return latest
    if latest is not None and latest.is_open:
        latest.source, latest.is_open, latest.progress = Attempt.Source.LAUNCH, False, 0
        latest.completed_at = latest.launched_at = latest.last_activity = now
        latest.fingerprint = ""  # the next sync brings Udemy's figures
        latest.save()
        return latest
    number = (latest.number if latest else 0) + 1
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                learner=learner,
                course=course,
                number=number,
                source=Attempt.Source.LAUNCH,
                progress=0,
                is_open=False,
                completed_at=now,
                launched_at=now,
                first_activity=now,
                last_activity=now,
            )
    except IntegrityError:
        # A simultaneous START recorded this attempt number first: that launch is the one.
        return _latest_attempt(learner, course) or latest


def _latest_attempt(learner: Learner, course: Course) -> Attempt | None:
    return (
        Attempt.objects.select_for_update()
        .filter(learner=learner, course=course)
        .order_by("-number")
        .first()
    )


def _is_unsynced_launch(attempt: Attempt) -> bool:
    """A launch no statistics sync has applied figures to yet (the sync sets a fingerprint)."""
    return attempt.source == Attempt.Source.LAUNCH and not attempt.fingerprint


GROUP_EDITABLE_FIELDS = ("name", "parent", "is_public")


class LearnerEmailTaken(Exception):
    """Another learner already has this e-mail (case-insensitive)."""


def group_create(*, slug: str, name: str, parent: Group | None, is_public: bool) -> Group:
    return Group.objects.create(slug=slug, name=name, parent=parent, is_public=is_public)


def group_update(*, group: Group, data: dict[str, Any]) -> Group:
    changed = [f for f in GROUP_EDITABLE_FIELDS if f in data and getattr(group, f) != data[f]]
    for field in changed:
        setattr(group, field, data[field])
    if changed:
        group.save(update_fields=changed)
    return group


def learner_create(
    *, email: str, first_name: str, last_name: str, groups: Iterable[Group]
) -> Learner:
    """A learner with a learner membership in each group.

    The e-mail is checked case-insensitively first for a clear error; the database constraint
    settles the race between two identical requests.
    """
    if Learner.objects.filter(email__iexact=email).exists():
        raise LearnerEmailTaken(email)
    try:
        with transaction.atomic():
            learner = Learner.objects.create(
                email=email, first_name=first_name, last_name=last_name
            )
            Membership.objects.bulk_create(
                Membership(group=group, learner=learner, role=Membership.Role.LEARNER)
                for group in {g.pk: g for g in groups}.values()
            )
    except IntegrityError as exc:
        raise LearnerEmailTaken(email) from exc
    return learner
