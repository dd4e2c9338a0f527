"""The data migration that marks the memberships earlier imports made as `imported`."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("integrations", "0009_coursebase_courses_reports"),
    ("catalog", "0004_course_group_title_idx"),
]
AFTER = [("integrations", "0010_memberships_imported")]


@pytest.mark.django_db(transaction=True)
def test_memberships_of_earlier_imports_are_marked_imported():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Group = apps.get_model("catalog", "Group")
    Learner = apps.get_model("catalog", "Learner")
    Membership = apps.get_model("catalog", "Membership")
    Connection = apps.get_model("integrations", "PlatformConnection")
    Link = apps.get_model("integrations", "PlatformDirectoryLink")

    root = Group.objects.create(name="Root", slug="root")
    team = Group.objects.create(name="Team", slug="team", parent=root)
    imported, by_hand, admin = (
        Learner.objects.create(email=f"{n}@example.com") for n in ("imported", "hand", "admin")
    )
    conn = Connection.objects.create(group=root, kind="learnupon")
    Link.objects.create(connection=conn, item_type="group", remote_id="g1", group=team)
    for n, learner in enumerate((imported, admin)):
        Link.objects.create(connection=conn, item_type="user", remote_id=f"u{n}", learner=learner)
    Membership.objects.create(group=team, learner=imported, role="learner")
    Membership.objects.create(group=team, learner=admin, role="admin")  # added by hand
    Membership.objects.create(group=team, learner=by_hand, role="learner")  # not linked
    Membership.objects.create(group=root, learner=imported, role="learner")  # root: not imported

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    marked = apps.get_model("catalog", "Membership").objects.filter(imported=True)
    assert list(marked.values_list("group__slug", "learner__email")) == [
        ("team", "imported@example.com")
    ]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
