"""Directory import, steps 3 and 4: group members → memberships; users gone from the platform
→ deactivated learners (never deleted)."""

from __future__ import annotations

from django.db import transaction

from integrations.core.runs import run_add_counts, run_record_error
from integrations.models import PlatformRun
from lmsbridge.catalog.models import Learner, Membership

from ..base import DirectorySource, PlatformNotFound
from ..runs import run_set_details
from .common import Link, OnPage, Tally, Territory, mapped


def import_memberships(
    *,
    run: PlatformRun,
    territory: Territory,
    source: DirectorySource,
    groups: dict[str, int],
    on_page: OnPage,
) -> None:
    """Make each imported group's learner memberships match the platform's member list.

    Only members linked to this connection are removed: an admin added by hand stays. A linked
    learner who now belongs to another group is that group's: left out."""
    learner_of = dict(
        Link.objects.filter(connection=territory.connection, item_type=Link.ItemType.USER)
        .exclude(learner=None)
        .values_list("remote_id", "learner_id")
    )
    foreign = territory.foreign(learner_of.values())
    learner_of = {
        remote: learner for remote, learner in learner_of.items() if learner not in foreign
    }
    linked = set(learner_of.values())
    tally = Tally()
    for remote_group, group_id in groups.items():
        try:
            wanted = _members(run, source, remote_group, learner_of, tally)
        except PlatformNotFound as exc:  # the group was deleted since the list was read
            run_record_error(run=run, category="group_gone", message=exc.message,
                             external_id=remote_group)  # fmt: skip
            run_add_counts(run=run, failed=1)
            continue
        _sync_group_members(group_id, wanted, linked, tally)
        if on_page:
            on_page()
    run_set_details(run=run, stream="memberships", **tally.counts)
    run_add_counts(run=run, removed=tally.counts.get("removed", 0))


def _members(
    run: PlatformRun,
    source: DirectorySource,
    remote_group: str,
    learner_of: dict[str, int],
    tally: Tally,
) -> set[int]:
    wanted: set[int] = set()
    for items in source.members(remote_group):
        for member in mapped(run, items, source.map_member):
            learner_id = learner_of.get(member.user_id)
            if learner_id is None:
                tally.add("unknown_users")  # in a group but not in the user list (or unmapped)
            else:
                wanted.add(learner_id)
    return wanted


def _sync_group_members(group_id: int, wanted: set[int], linked: set[int], tally: Tally) -> None:
    current = dict(Membership.objects.filter(group_id=group_id).values_list("learner_id", "role"))
    to_add = wanted - set(current)
    to_remove = {
        learner_id
        for learner_id, role in current.items()
        if learner_id not in wanted and learner_id in linked and role == Membership.Role.LEARNER
    }
    with transaction.atomic():
        if to_add:
            Membership.objects.bulk_create(
                [Membership(group_id=group_id, learner_id=i) for i in sorted(to_add)],
                ignore_conflicts=True,  # a concurrent import may have added it
            )
        if to_remove:
            Membership.objects.filter(group_id=group_id, learner_id__in=to_remove).delete()
    tally.add("added", len(to_add))
    tally.add("removed", len(to_remove))
    tally.add("unchanged", len(wanted & set(current)))


def deactivate_missing(*, run: PlatformRun, territory: Territory, seen: set[str]) -> None:
    """Deactivate (never delete) the learners of users gone from a complete, non-empty scan,
    except those who belong to another group by now (not this connection's to deactivate)."""
    connection = territory.connection
    if not seen:
        run_set_details(run=run, stream="users", deactivation="skipped: the scan was empty")
        return
    gone = list(
        Link.objects.filter(connection=connection, item_type=Link.ItemType.USER, present=True)
        .exclude(remote_id__in=seen)
        .exclude(learner=None)
        .values_list("pk", "learner_id")
    )
    foreign = territory.foreign(learner_id for _, learner_id in gone)
    gone = [(link_id, learner_id) for link_id, learner_id in gone if learner_id not in foreign]
    if not gone:
        return
    link_ids, learner_ids = zip(*gone, strict=True)
    with transaction.atomic():
        Link.objects.filter(pk__in=link_ids).update(present=False)
        deactivated = Learner.objects.filter(pk__in=learner_ids, is_active=True).update(
            is_active=False
        )
    run_add_counts(run=run, deactivated=deactivated)
    run_set_details(run=run, stream="users", deactivated=deactivated)
