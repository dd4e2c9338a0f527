"""Promise (isolation, directory import): a connection only touches the learners its group's
admins can list — members of the connected group, of the groups it imported, and of subgroups
those admins administer. A learner of a subgroup they do not administer is out of scope, even
inside the connected group's subtree: counted as a conflict (skipped, never named), never
linked, renamed, deactivated, reactivated, nor given the platform's admin role."""

from __future__ import annotations

import pytest

from catalog.models import Group, Learner, Membership
from integrations.models import PlatformDirectoryLink
from tests.factories import GroupFactory, LearnerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _member_ids(memberships) -> set[int]:
    return {m["user_id"] if isinstance(m, dict) else m for m in memberships}


def test_a_learner_of_a_subgroup_the_admin_does_not_administer_is_left_alone(
    make_learnupon_sandbox, make_connection, run_platform
):
    sandbox = make_learnupon_sandbox(users=8)
    data = sandbox.data
    user = next(u for u in data.users if u["user_type"] == "learner" and "@" in u["email"])
    user["user_type"] = "admin"  # the platform makes her admin of every group she is in
    assert any(_member_ids(ids) & {user["id"]} for ids in data.memberships.values())

    connected = GroupFactory(name="Academy", slug="academy")
    MembershipFactory(group=connected, role=Membership.Role.ADMIN)  # the connection's admin
    board = GroupFactory(name="Board", slug="board", parent=connected)  # not administered
    administered = GroupFactory(name="Mentors", slug="mentors", parent=connected)
    MembershipFactory(group=administered, role=Membership.Role.ADMIN,
                      learner=connected.memberships.get().learner)  # fmt: skip
    her = LearnerFactory(email=user["email"].lower(), first_name="Hers", is_active=True)
    MembershipFactory(group=board, learner=her)
    mentor_user = next(u for u in data.users if u is not user and "@" in u["email"])
    mentor = LearnerFactory(email=mentor_user["email"].lower(), first_name="Mentor")
    MembershipFactory(group=administered, learner=mentor)
    connection = make_connection(sandbox, group=connected)

    run = run_platform(connection)
    assert run.details["users"]["conflicts"] == 1
    her.refresh_from_db()
    assert (her.first_name, her.remote_kind, her.remote_id, her.is_active) == ("Hers", "", "", True)
    assert not PlatformDirectoryLink.objects.filter(learner=her).exists()
    assert list(her.memberships.values_list("group__slug", "role")) == [("board", "learner")]
    # One of a subgroup the admin administers is theirs to import.
    assert PlatformDirectoryLink.objects.filter(learner=mentor).exists()

    # Disabled, then gone from the platform: she is neither deactivated nor reactivated.
    user["enabled"] = False
    run_platform(connection)
    her.refresh_from_db()
    assert her.is_active
    Learner.objects.filter(pk=her.pk).update(is_active=False)  # by her own group's admin
    user["enabled"] = True
    run_platform(connection)
    data.remove_users([user["id"]])
    run = run_platform(connection)
    her.refresh_from_db()
    assert not her.is_active and run.deactivated == 0
    assert not Membership.objects.filter(learner=her, group__in=Group.objects.filter(
        remote_kind="learnupon")).exists()  # fmt: skip
