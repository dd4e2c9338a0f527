"""Pure mappings (no database, no network): LearnUpon and Coursebase payloads → records,
courses → the LearnUpon Course object, completions, fingerprints, and the settings validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.core.records import MappingError
from integrations.platforms.base import RemoteGroup
from integrations.platforms.coursebase import mapping as cb
from integrations.platforms.directory.groups import _parents_first
from integrations.platforms.learnupon import mapping as lu

# --------------------------------------------------------------------------- LearnUpon


def test_learnupon_user_is_lowercased_and_enabled_maps_to_active():
    raw = {"id": 662, "first_name": "Learn", "last_name": "Upon", "email": "LearnUponAPI@x.com"}
    user = lu.map_user(raw)
    assert (user.remote_id, user.email, user.first_name, user.active) == (
        "662", "learnuponapi@x.com", "Learn", True,
    )  # fmt: skip
    assert lu.map_user({**raw, "enabled": False}).active is False


def test_learnupon_expired_account_is_inactive_even_when_enabled():
    raw = {"id": 5, "email": "a@example.com", "enabled": True}
    today = datetime(2025, 6, 2, tzinfo=UTC).date()
    assert lu.map_user({**raw, "account_expires": "2025-06-01"}, today).active is False
    assert lu.map_user({**raw, "account_expires": "2025-06-02"}, today).active is False
    assert lu.map_user({**raw, "account_expires": "2025-06-03"}, today).active is True
    assert lu.map_user({**raw, "account_expires": None}, today).active is True
    assert lu.map_user({**raw, "account_expires": "soon"}, today).active is True
    expired_and_disabled = {**raw, "enabled": False, "account_expires": "2030-01-01"}
    assert lu.map_user(expired_and_disabled, today).active is False


@pytest.mark.parametrize("raw", [{"email": "a@b.c"}, {"id": "x1", "email": "a@b.c"}, {"id": True}])
def test_learnupon_user_without_a_numeric_id_is_rejected(raw):
    with pytest.raises(MappingError) as caught:
        lu.map_user(raw)
    assert caught.value.category == "invalid_item"


def test_learnupon_username_only_users_are_rejected_with_a_reason():
    with pytest.raises(MappingError) as caught:
        lu.map_user({"id": 7, "username": "jdoe", "email": ""})
    assert caught.value.category == "no_email" and caught.value.external_id == "7"


def test_learnupon_group_is_flat():
    group = lu.map_group({"id": 12, "title": "Sales", "description": "x"})
    assert group == RemoteGroup("12", "Sales", None)
    assert lu.map_group({"id": 13, "title": ""}).name == "LearnUpon group 13"


def test_learnupon_membership_accepts_both_versions():
    assert lu.map_member({"id": 1234, "email": "a@b.c"}).user_id == "1234"  # user object
    assert lu.map_member({"id": 99, "user_id": 1234}).user_id == "1234"  # version_id=1.1


def snapshot(**overrides) -> lu.CourseSnapshot:
    values = {
        "local_id": "1",
        "kind": "course",
        "external_id": "4242",
        "title": "Python",
        "description": "<p>Learn</p>",
        "duration_minutes": 95,
        "tags": ("Data", "AI"),
    }
    return lu.CourseSnapshot(**{**values, **overrides})


def test_course_fields_follow_the_create_course_parameters():
    fields = lu.course_fields(snapshot(), owner_id="7", cataloged=True)
    assert fields == {
        "name": "Python",
        "owner_id": 7,
        "description": "<p>Learn</p>",
        "keywords": "AI, Data",
        "reference_code": "udemy-course-4242",
        "minute_length": 95.0,
        "course_length_unit": 0,
        "cataloged": True,
    }
    assert "minute_length" not in lu.course_fields(
        snapshot(duration_minutes=None), owner_id="7", cataloged=True
    )
    path = lu.course_fields(snapshot(kind="learning_path"), owner_id="7", cataloged=True)
    assert path["reference_code"] == "udemy-learning_path-4242"


def test_the_fingerprint_is_stable_and_sensitive():
    a = lu.fingerprint(lu.course_fields(snapshot(tags=("b", "a")), owner_id="1", cataloged=True))
    b = lu.fingerprint(lu.course_fields(snapshot(tags=("a", "b")), owner_id="1", cataloged=True))
    c = lu.fingerprint(lu.course_fields(snapshot(title="Other"), owner_id="1", cataloged=True))
    assert a == b != c


def test_completion_dates_are_utc_z():
    paris = timezone(timedelta(hours=2))
    fields = lu.completion_fields(
        email="A@B.C", course_id="9", completed_at=datetime(2025, 5, 20, 11, 30, tzinfo=paris)
    )
    assert fields == {"email": "a@b.c", "course_id": "9", "date_completed": "2025-05-20T09:30:00Z"}
    assert lu.enrollment_is_complete({"status": "passed"})
    assert not lu.enrollment_is_complete({"status": "in_progress"})


@given(st.datetimes(timezones=st.just(UTC)))
def test_any_completion_date_has_learnupons_format(moment):
    value = lu.utc_z(moment)
    assert datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) == moment.replace(
        microsecond=0
    )


# --------------------------------------------------------------------------- Coursebase


def test_coursebase_group_keeps_its_parent():
    assert cb.map_group({"group_id": "A", "name": "Org", "parent_id": None}).parent_id is None
    assert cb.map_group({"group_id": "B", "name": "X", "parent_id": "A"}).parent_id == "A"


def test_coursebase_user_login_is_the_email():
    user = cb.map_user({"user_id": "wLQPaRVUME7f", "login_id": "User1@Example.com"})
    assert (user.remote_id, user.email, user.first_name) == (
        "wLQPaRVUME7f",
        "user1@example.com",
        "",
    )
    with pytest.raises(MappingError) as caught:
        cb.map_user({"user_id": "x", "login_id": "jdoe"})
    assert caught.value.category == "no_email"


def test_coursebase_member_role():
    member = cb.map_member({"user_id": "u", "login_id": "a@b.c", "role": "instructor"})
    assert (member.user_id, member.role) == ("u", "instructor")


# --------------------------------------------------------------------------- tree order


def test_parents_come_first_and_cycles_become_top_level():
    groups = [
        RemoteGroup("c", "C", "b"),
        RemoteGroup("b", "B", "a"),
        RemoteGroup("a", "A", None),
        RemoteGroup("x", "X", "y"),
        RemoteGroup("y", "Y", "x"),  # a cycle
        RemoteGroup("o", "Orphan", "missing"),
    ]
    order = [g.remote_id for g in _parents_first(groups)]
    assert order.index("a") < order.index("b") < order.index("c")
    assert set(order) == {"a", "b", "c", "x", "y", "o"}


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 21)), max_size=30))
def test_tree_order_never_loses_a_group(edges):
    groups = {str(child): RemoteGroup(str(child), "g", str(parent)) for child, parent in edges}
    ordered = _parents_first(list(groups.values()))
    assert sorted(g.remote_id for g in ordered) == sorted(groups)
    position = {g.remote_id: i for i, g in enumerate(ordered)}
    for group in ordered:  # an acyclic parent always comes first
        chain, current = set(), group
        while current.parent_id in groups and current.remote_id not in chain:
            chain.add(current.remote_id)
            current = groups[current.parent_id]
        if current.parent_id not in groups and group.parent_id in groups:
            assert position[group.parent_id] < position[group.remote_id]
