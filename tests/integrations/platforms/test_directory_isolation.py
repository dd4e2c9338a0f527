"""Promise (isolation, background jobs): a platform connection only creates, updates, links or
deactivates learners inside its own group's subtree. A listed e-mail that belongs to a learner of
another group is a conflict: counted on the run (never named to the group's admin), logged for
the platform's operators, and the learner is not touched."""

from __future__ import annotations

import logging

import pytest

from catalog.models import Learner, Membership
from integrations.models import PlatformDirectoryLink
from tests.factories import GroupFactory, LearnerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _email(user: dict) -> str:
    return user.get("email") or user["login_id"]


@pytest.fixture(params=["learnupon", "coursebase"])
def sandbox(request, make_learnupon_sandbox, make_coursebase_sandbox):
    make = make_learnupon_sandbox if request.param == "learnupon" else make_coursebase_sandbox
    return make(users=12)


def test_an_import_never_touches_the_learners_of_another_group(
    sandbox, make_connection, run_platform, caplog
):
    users = [u for u in sandbox.data.users if "@" in _email(u)]
    group_b = GroupFactory(name="Group B", slug="group-b")
    b_admin = LearnerFactory(email=_email(users[0]).lower(), first_name="Bea", last_name="B")
    b_learner = LearnerFactory(email=_email(users[1]).lower(), first_name="Bob", last_name="B")
    MembershipFactory(group=group_b, learner=b_admin, role=Membership.Role.ADMIN)
    MembershipFactory(group=group_b, learner=b_learner)
    connection = make_connection(sandbox, group=GroupFactory(name="Group A", slug="group-a"))

    with caplog.at_level(logging.WARNING):
        run = run_platform(connection)

    assert run.details["users"]["conflicts"] == 2
    for learner, first_name in ((b_admin, "Bea"), (b_learner, "Bob")):
        learner.refresh_from_db()
        assert (learner.first_name, learner.remote_kind, learner.remote_id) == (first_name, "", "")
        assert list(learner.memberships.values_list("group__slug", flat=True)) == ["group-b"]
        assert not PlatformDirectoryLink.objects.filter(learner=learner).exists()
    assert b_admin.email not in run.error_summary + str(run.details)  # not named to A's admin
    assert any("conflict" in r.getMessage() for r in caplog.records)  # operators see it
    # Everyone else of the platform was imported into A's subtree.
    assert Learner.objects.filter(remote_kind=connection.kind).count() >= len(users) - 2

    # Dropping them from the platform deactivates nobody of group B.
    sandbox.data.remove_users([users[0].get("id") or users[0]["user_id"]])
    sandbox.data.remove_users([users[1].get("id") or users[1]["user_id"]])
    run = run_platform(connection)
    b_admin.refresh_from_db()
    b_learner.refresh_from_db()
    assert b_admin.is_active and b_learner.is_active


def test_a_learner_linked_before_and_now_in_another_group_is_left_alone(
    sandbox, make_connection, run_platform
):
    """A learner this connection imported, later made a member of another group by that group's
    admin, is no longer this connection's to rename or deactivate."""
    connection = make_connection(sandbox, group=GroupFactory(slug="group-a"))
    run_platform(connection)
    user = next(u for u in sandbox.data.users if "@" in _email(u))
    learner = Learner.objects.get(email__iexact=_email(user))
    MembershipFactory(group=GroupFactory(slug="group-b"), learner=learner)

    sandbox.data.remove_users([user.get("id") or user["user_id"]])
    run = run_platform(connection)
    learner.refresh_from_db()
    assert learner.is_active
    assert run.deactivated == 0
