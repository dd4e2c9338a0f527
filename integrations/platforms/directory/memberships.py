"""Directory import, steps 3 and 4: group members → memberships; users gone from the platform
→ deactivated learners (never deleted)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from catalog.models import Learner, Membership
from integrations.core.runs import run_add_counts, run_record_error
from integrations.models import PlatformRun

from ..base import DirectorySource, PlatformNotFound
from ..runs import run_set_details
from .common import Link, OnPage, Tally, Territory, mapped

ROLES = {
    "admin": Membership.Role.ADMIN,
    "instructor": Membership.Role.INSTRUCTOR,
}


def local_role(remote_role: str) -> str:
    """A platform role as a membership role: admin and instructor carry over; anything else
    (learner, LearnUpon's manager, a role unknown here) is a learner: rights are never guessed."""
    return ROLES.get(remote_role.strip().lower(), Membership.Role.LEARNER)


def import_memberships(
    *,
    run: PlatformRun,
    territory: Territory,
    source: DirectorySource,
    groups: dict[str, int],
    roles: dict[str, str],
    on_page: OnPage,
) -> None:
    """Make each imported group's imported memberships match the platform's member list, roles
    included (`roles`: each user's platform-wide role, for member lists without one).

    A membership made by hand stays as it is. A linked learner who now belongs to another group
    is that group's: left out."""
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
    users = _Users(learner_of, roles)
    tally = Tally()
    for remote_group, group_id in groups.items():
        try:
            wanted = _members(run, source, remote_group, users, tally)
        except PlatformNotFound as exc:  # the group was deleted since the list was read
            run_record_error(run=run, category="group_gone", message=exc.message,
                             external_id=remote_group)  # fmt: skip
            run_add_counts(run=run, failed=1)
            continue
        _sync_group_members(group_id, wanted, linked, tally)
        if on_page:
            on_page()
    run_set_details(run=run, stream="memberships", **tally.counts)
    run_add_counts(
        run=run,
        removed=tally.counts.get("removed", 0),
        updated=tally.counts.get("role_changed", 0),
    )


@dataclass(frozen=True)
class _Users:
    """What the import knows of the platform's users: the learner each user id is linked to
    (this connection's own learners only), and each user's platform-wide role."""

    learner_of: dict[str, int]
    roles: dict[str, str]


def _members(
    run: PlatformRun, source: DirectorySource, remote_group: str, users: _Users, tally: Tally
) -> dict[int, str]:
    """The group's members as {learner id: membership role}."""
    wanted: dict[int, str] = {}
    for items in source.members(remote_group):
        for member in mapped(run, items, source.map_member):
            learner_id = users.learner_of.get(member.user_id)
            if learner_id is None:
                tally.add("unknown_users")  # in a group but not in the user list (or unmapped)
            else:
                role = member.role or users.roles.get(member.user_id, "")
                wanted[learner_id] = local_role(role)
    return wanted


def _sync_group_members(
    group_id: int, wanted: dict[int, str], linked: set[int], tally: Tally
) -> None:
    """Add the missing members; change the role or remove the member of an imported
    membership only (never one made by hand), and only of this connection's own learners."""
    current = {
        learner_id: (role, imported)
        for learner_id, role, imported in Membership.objects.filter(group_id=group_id).values_list(
            "learner_id", "role", "imported"
        )
    }
    to_add = {i: role for i, role in wanted.items() if i not in current}
    ours = {i for i, (_, imported) in current.items() if imported and i in linked}
    to_remove = sorted(ours - set(wanted))
    changed: dict[str, list[int]] = {}
    for learner_id in sorted(ours & set(wanted)):
        if wanted[learner_id] != current[learner_id][0]:
            changed.setdefault(wanted[learner_id], []).append(learner_id)
    with transaction.atomic():
        if to_add:
            Membership.objects.bulk_create(
                [
                    Membership(group_id=group_id, learner_id=i, role=role, imported=True)
                    for i, role in sorted(to_add.items())
                ],
                ignore_conflicts=True,  # a concurrent import may have added it
            )
        for role, learner_ids in changed.items():  # one UPDATE per role, at most three
            Membership.objects.filter(
                group_id=group_id, learner_id__in=learner_ids, imported=True
            ).update(role=role)
        if to_remove:
            Membership.objects.filter(
                group_id=group_id, learner_id__in=to_remove, imported=True
            ).delete()
    n_changed = sum(map(len, changed.values()))
    manual = sum(1 for i in wanted if i in current and not current[i][1])
    tally.add("added", len(to_add))
    tally.add("removed", len(to_remove))
    tally.add("role_changed", n_changed)
    tally.add("kept_manual", manual)  # made by hand here: the import leaves it alone
    tally.add("unchanged", len(wanted) - len(to_add) - n_changed - manual)
    for role in (Membership.Role.ADMIN, Membership.Role.INSTRUCTOR):
        tally.add(f"{role}s", sum(1 for r in wanted.values() if r == role))


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
