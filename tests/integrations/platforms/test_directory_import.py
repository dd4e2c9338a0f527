"""Directory import against the sandboxes: group trees, 1,000 users across pages, idempotence,
deactivation of users gone from the platform, e-mail matching, bad items."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from catalog.models import Group, Learner, Membership
from integrations.models import PlatformDirectoryLink, PlatformRun
from tests.factories import GroupFactory, LearnerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

DIRECTORY_TABLES = (
    "catalog_group",
    "catalog_learner",
    "catalog_membership",
    "platformdirectorylink",
)


def directory_writes(queries) -> list[str]:
    """INSERT/UPDATE/DELETE statements on the imported data (runs and leases excluded)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and any(table in q["sql"] for table in DIRECTORY_TABLES)
    ]


def depth(group: Group) -> int:
    n = 0
    while group.parent_id:
        group, n = group.parent, n + 1
    return n


def test_coursebase_tree_and_1000_users_across_pages(
    make_coursebase_sandbox, make_connection, run_platform
):
    sandbox = make_coursebase_sandbox(users=1000)
    connection = make_connection(sandbox)
    run = run_platform(connection)

    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    imported = Group.objects.filter(remote_kind="coursebase")
    assert imported.count() == 10  # org + 3 departments + 6 teams
    depths = {depth(g) - depth(connection.group) for g in imported}
    assert depths == {1, 2, 3}  # the 3-level tree, under the connected group
    assert all(g.is_public for g in imported)  # their learners see the connected catalog
    assert Learner.objects.filter(remote_kind="coursebase").count() == 1000
    assert run.details["users"]["fetched"] == 1000
    assert run.fetched == 1000 + 10  # users and groups read (memberships are not fetched)
    # org.users.list: 10 pages of 100, followed by cursor (Coursebase API)
    user_pages = [e for e in sandbox.request_log if e["path"] == "/api/org.users.list"]
    assert len(user_pages) == 10
    assert user_pages[0]["body"] == {} and user_pages[1]["body"]["next"]
    root = imported.get(parent=connection.group)
    assert Membership.objects.filter(group=root).count() == 1000
    team = sandbox.data.leaves()[0]
    team_group = imported.get(remote_id=team["group_id"])
    assert Membership.objects.filter(group=team_group).count() == len(
        sandbox.data.members[team["group_id"]]
    )


def test_learnupon_users_across_pages_and_groups(
    make_learnupon_sandbox, make_connection, run_platform
):
    sandbox = make_learnupon_sandbox(users=1000)
    connection = make_connection(sandbox)
    run = run_platform(connection)

    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    # GET /users?page=N, 500 per page, LU-Has-Next-Page (LearnUpon API "Data pagination")
    pages = [e["query"] for e in sandbox.request_log if e["path"] == "/api/v1/users"]
    assert pages == ["page=1", "page=2", "page=3"]  # 1,001 users (the admin too)
    assert Learner.objects.filter(remote_kind="learnupon").count() == 1001
    groups = Group.objects.filter(remote_kind="learnupon")
    assert {g.parent_id for g in groups} == {connection.group.pk}  # LearnUpon groups are flat
    assert groups.count() == 4
    for group in sandbox.data.groups:
        local = groups.get(remote_id=str(group["id"]))
        assert local.memberships.count() == len(sandbox.data.memberships[group["id"]])


def test_reimport_changes_nothing(make_coursebase_sandbox, make_connection, run_platform):
    sandbox = make_coursebase_sandbox(users=250)
    connection = make_connection(sandbox)
    run_platform(connection)

    with CaptureQueriesContext(db) as queries:
        second = run_platform(connection)
    assert second.status == PlatformRun.Status.SUCCEEDED
    assert directory_writes(queries.captured_queries) == []
    assert (second.created, second.updated, second.removed, second.deactivated) == (0, 0, 0, 0)
    assert second.unchanged == 250


def test_reimport_learnupon_changes_nothing(make_learnupon_sandbox, make_connection, run_platform):
    sandbox = make_learnupon_sandbox(users=120)
    connection = make_connection(sandbox)
    run_platform(connection)
    with CaptureQueriesContext(db) as queries:
        run_platform(connection)
    assert directory_writes(queries.captured_queries) == []


def test_a_removed_user_is_deactivated_then_reactivated(
    make_learnupon_sandbox, make_connection, run_platform
):
    sandbox = make_learnupon_sandbox(users=30)
    connection = make_connection(sandbox)
    run_platform(connection)
    gone = sandbox.data.users[5]
    sandbox.data.remove_users([gone["id"]])

    run = run_platform(connection)
    learner = Learner.objects.get(email__iexact=gone["email"])
    assert run.deactivated == 1
    assert learner.is_active is False  # deactivated, never deleted
    assert Learner.objects.filter(is_active=True, remote_kind="learnupon").count() == 30
    # and its memberships of the imported groups are gone with it
    assert not learner.memberships.filter(group__remote_kind="learnupon").exists()

    sandbox.data.users.append(gone)
    run_platform(connection)
    learner.refresh_from_db()
    assert learner.is_active is True


def test_a_disabled_learnupon_user_is_imported_inactive(
    learnupon_sandbox, make_connection, run_platform
):
    learnupon_sandbox.data.users[3]["enabled"] = False
    run_platform(make_connection(learnupon_sandbox))
    assert (
        Learner.objects.get(email__iexact=learnupon_sandbox.data.users[3]["email"]).is_active
        is False
    )


def test_an_expired_learnupon_account_is_imported_inactive(
    learnupon_sandbox, make_connection, run_platform
):
    users = learnupon_sandbox.data.users
    users[4]["account_expires"] = "2020-01-31"  # enabled, but expired: expiry wins
    users[5]["account_expires"] = "2999-12-31"
    run_platform(make_connection(learnupon_sandbox))
    active = dict(Learner.objects.values_list("email", "is_active"))
    assert active[users[4]["email"].lower()] is False
    assert active[users[5]["email"].lower()] is True


def test_an_empty_scan_deactivates_nobody(learnupon_sandbox, make_connection, run_platform):
    connection = make_connection(learnupon_sandbox)
    run_platform(connection)
    learnupon_sandbox.data.users.clear()
    run = run_platform(connection)
    assert run.deactivated == 0
    assert not Learner.objects.filter(is_active=False).exists()


def test_a_failed_scan_deactivates_nobody(
    make_learnupon_sandbox, make_connection, run_platform, settings
):
    settings.PLATFORM_MAX_RETRIES = 1
    sandbox = make_learnupon_sandbox(users=600)
    connection = make_connection(sandbox)
    run_platform(connection)
    sandbox.fail(path_contains="users?page=2", status=500, times=10)
    run = run_platform(connection)
    assert run.status == PlatformRun.Status.PARTIAL
    assert "500" in run.error_summary
    assert not Learner.objects.filter(is_active=False).exists()


def test_existing_learners_are_matched_by_email_case_insensitively(
    learnupon_sandbox, make_connection, run_platform
):
    mixed = next(u for u in learnupon_sandbox.data.users if u["email"] != u["email"].lower())
    existing = LearnerFactory(email=mixed["email"].lower(), first_name="Kept")
    connection = make_connection(learnupon_sandbox)
    run_platform(connection)
    existing.refresh_from_db()
    assert Learner.objects.filter(email__iexact=mixed["email"]).count() == 1
    assert existing.remote_kind == "learnupon" and existing.remote_id == str(mixed["id"])
    assert existing.first_name == mixed["first_name"]  # LearnUpon's names win
    assert PlatformDirectoryLink.objects.filter(learner=existing).exists()


def test_hand_added_admins_stay_in_imported_groups(
    learnupon_sandbox, make_connection, run_platform
):
    connection = make_connection(learnupon_sandbox)
    run_platform(connection)
    group = Group.objects.filter(remote_kind="learnupon").first()
    admin = MembershipFactory(group=group, role=Membership.Role.ADMIN)
    stranger = MembershipFactory(group=group)
    run_platform(connection)
    assert Membership.objects.filter(pk__in=[admin.pk, stranger.pk]).count() == 2


def test_a_bad_user_is_an_error_and_the_import_goes_on(
    learnupon_sandbox, make_connection, run_platform
):
    learnupon_sandbox.data.users[2]["email"] = ""
    run = run_platform(make_connection(learnupon_sandbox))
    assert run.status == PlatformRun.Status.PARTIAL
    error = run.errors.get()
    assert error.category == "no_email" and error.external_id == str(
        learnupon_sandbox.data.users[2]["id"]
    )
    assert Learner.objects.filter(remote_kind="learnupon").count() == 60


def test_group_changes_follow_the_platform(coursebase_sandbox, make_connection, run_platform):
    connection = make_connection(coursebase_sandbox)
    run_platform(connection)
    team = coursebase_sandbox.data.leaves()[0]
    team["name"] = "Renamed team"
    root_id = coursebase_sandbox.data.root["group_id"]
    departments = [g for g in coursebase_sandbox.data.groups if g["parent_id"] == root_id]
    new_parent = next(d for d in departments if d["group_id"] != team["parent_id"])
    team["parent_id"] = new_parent["group_id"]
    run = run_platform(connection)
    local = Group.objects.get(remote_kind="coursebase", remote_id=team["group_id"])
    assert local.name == "Renamed team"
    assert local.parent.remote_id == new_parent["group_id"]
    assert run.details["groups"]["updated"] == 1


def test_two_connections_keep_their_links_apart(
    make_learnupon_sandbox, make_connection, run_platform
):
    """Same user ids, same e-mails on two portals connected to two separate groups: the first
    import takes the 5 shared people; for the second they belong to another group (conflicts,
    not linked, see test_directory_isolation.py); each connection links only its own."""
    first, second = make_learnupon_sandbox(users=5), make_learnupon_sandbox(users=5, portal="other")
    runs = [run_platform(make_connection(s, group=GroupFactory())) for s in (first, second)]
    assert Learner.objects.filter(remote_kind="learnupon").count() == 7  # two admins, 5 shared
    assert PlatformDirectoryLink.objects.filter(item_type="user").count() == 6 + 1
    assert runs[1].details["users"]["conflicts"] == 5
    assert Group.objects.filter(remote_kind="learnupon").count() == 8


# --------------------------------------------------------------------------- roles


def _role_of(email: str, remote_group_id) -> tuple[str, bool]:
    membership = Membership.objects.get(
        learner__email__iexact=email, group__remote_id=str(remote_group_id)
    )
    return membership.role, membership.imported


def test_coursebase_roles_become_membership_roles(
    coursebase_sandbox, make_connection, run_platform
):
    """Coursebase group.users.list gives each member a role (learner, admin, instructor): an
    admin administers that group here, an instructor is recorded as one, both per group."""
    data = coursebase_sandbox.data
    run = run_platform(make_connection(coursebase_sandbox))
    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    first = data.users[0]["login_id"]
    assert _role_of(first, data.root["group_id"]) == (Membership.Role.ADMIN, True)
    teachers = [
        (m["login_id"], group_id)
        for group_id, members in data.members.items()
        for m in members
        if m["role"] == "instructor"
    ]
    assert teachers  # the sandbox has some
    for login, group_id in teachers:
        assert _role_of(login, group_id) == (Membership.Role.INSTRUCTOR, True)
    # the admin of the org group is a learner in their team: roles are per group
    team = next(g for g, ms in data.members.items() if g != data.root["group_id"] and any(
        m["login_id"] == first for m in ms))  # fmt: skip
    assert _role_of(first, team) == (Membership.Role.LEARNER, True)
    assert run.details["memberships"]["admins"] == 1
    assert run.details["memberships"]["instructors"] == len(teachers)
    # never an admin of the connected group itself: imported groups sit below it
    assert not Membership.objects.filter(
        group=run.connection.group, role=Membership.Role.ADMIN
    ).exists()


def test_a_role_change_upstream_updates_the_membership(
    coursebase_sandbox, make_connection, run_platform
):
    data = coursebase_sandbox.data
    connection = make_connection(coursebase_sandbox)
    run_platform(connection)
    root = data.members[data.root["group_id"]]
    root[0]["role"] = "learner"  # the admin steps down
    root[1]["role"] = "Admin"  # and another takes over (roles are read case-insensitively)

    with CaptureQueriesContext(db) as queries:
        run = run_platform(connection)
    assert _role_of(root[0]["login_id"], data.root["group_id"])[0] == Membership.Role.LEARNER
    assert _role_of(root[1]["login_id"], data.root["group_id"])[0] == Membership.Role.ADMIN
    assert run.details["memberships"]["role_changed"] == 2
    assert run.updated == 2
    updates = [q for q in directory_writes(queries.captured_queries) if "membership" in q]
    assert len(updates) == 2  # one UPDATE per new role, not one per member

    run_platform(connection)  # and then nothing more to change
    assert Membership.objects.filter(role=Membership.Role.ADMIN).count() == 1


def test_learnupon_user_type_is_the_role_in_every_group(
    learnupon_sandbox, make_connection, run_platform
):
    """LearnUpon's user_type is portal-wide: an admin user administers each imported group
    they are a member of; a manager (whose managed groups the member list does not say)
    stays a learner."""
    data = learnupon_sandbox.data
    member = next(u for u in data.users if u["user_type"] == "learner")
    groups = [g for g, ids in data.memberships.items() if _member_ids(ids) & {member["id"]}]
    assert groups
    member["user_type"] = "admin"
    manager = next(u for u in data.users if u["user_type"] == "learner")
    manager["user_type"] = "manager"
    connection = make_connection(learnupon_sandbox)
    run_platform(connection)
    for group_id in groups:
        assert _role_of(member["email"], group_id) == (Membership.Role.ADMIN, True)
    assert {m.role for m in Membership.objects.filter(learner__email__iexact=manager["email"])} \
        == {Membership.Role.LEARNER}  # fmt: skip

    member["user_type"] = "learner"  # demoted on the portal
    run_platform(connection)
    for group_id in groups:
        assert _role_of(member["email"], group_id)[0] == Membership.Role.LEARNER


def _member_ids(memberships) -> set[int]:
    return {m["user_id"] if isinstance(m, dict) else m for m in memberships}


def test_an_imported_admin_leaves_with_the_platform_but_a_hand_made_one_stays(
    coursebase_sandbox, make_connection, run_platform
):
    data = coursebase_sandbox.data
    connection = make_connection(coursebase_sandbox)
    run_platform(connection)
    root_group = Group.objects.get(remote_kind="coursebase", remote_id=data.root["group_id"])
    imported_admin = data.members[data.root["group_id"]][0]
    # a learner of the connection made admin by hand here: the import must not undo it
    by_hand = data.members[data.root["group_id"]][2]
    Membership.objects.filter(group=root_group, learner__email__iexact=by_hand["login_id"]).update(
        role=Membership.Role.ADMIN, imported=False
    )
    data.members[data.root["group_id"]] = [
        m for m in data.members[data.root["group_id"]]
        if m["user_id"] not in (imported_admin["user_id"], by_hand["user_id"])
    ]  # fmt: skip

    run = run_platform(connection)
    assert not Membership.objects.filter(
        group=root_group, learner__email__iexact=imported_admin["login_id"]
    ).exists()
    assert _role_of(by_hand["login_id"], data.root["group_id"]) == (
        Membership.Role.ADMIN, False)  # fmt: skip
    assert run.details["memberships"]["removed"] == 1
