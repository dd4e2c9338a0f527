"""Write side of the platform objects the API creates: groups and learners.

`lmsbridge/catalog/services.py` (another module's file) is their natural home; these are
keyword-only and ORM-only so they can move there unchanged. Permission checks are the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from lmsbridge.catalog.models import Group, Learner, Membership

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
