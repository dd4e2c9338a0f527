"""Registering learners where a statistics report may match them: statistics match only the
learners who see the integration's catalog (`services.stats_audience`), so a test's learners
are members of its integration's group."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.models import Group, Learner, Membership
from integrations.models import Integration


def register(emails: Iterable[str], group: Group | None = None) -> None:
    """Learners of these e-mails (those missing created), members of `group` (by default the
    group of the integration created last)."""
    emails = list(emails)
    group = group or Integration.objects.latest("pk").group
    Learner.objects.bulk_create([Learner(email=e) for e in emails], ignore_conflicts=True)
    ids = Learner.objects.filter(email__in=emails).values_list("pk", flat=True)
    Membership.objects.bulk_create(
        [Membership(group=group, learner_id=pk) for pk in ids], ignore_conflicts=True
    )
