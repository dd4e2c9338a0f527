"""Write side of the platform: launching a course (START)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import Attempt, Course, Learner


@transaction.atomic
def attempt_launch(*, learner: Learner, course: Course) -> Attempt:
    """Seed rule: launching from the platform marks the attempt completed with 0 % at once (so
    programs and paths move on); the next statistics sync brings Udemy's figures.

    An opened attempt is closed by the launch; otherwise a new attempt is recorded.
    """
    now = timezone.now()
    latest = (
        Attempt.objects.select_for_update()
        .filter(learner=learner, course=course)
        .order_by("-number")
        .first()
    )
    if latest is not None and latest.is_open:
        latest.source, latest.is_open = Attempt.Source.LAUNCH, False
        latest.completed_at, latest.launched_at, latest.fingerprint = now, now, ""
        latest.save()
        return latest
    number = (
        Attempt.objects.filter(learner=learner, course=course).aggregate(n=Max("number"))["n"] or 0
    ) + 1
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
