"""GET, POST /api/v1/groups/ and GET, PATCH /api/v1/groups/{slug}/."""

from __future__ import annotations

import pytest

from catalog.models import Group
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db


def test_superuser_lists_every_group_paginated(su_api, group_a, group_b):
    response = su_api.get("/api/v1/groups/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    slugs = {g["slug"] for g in body["results"]}
    assert {"acme-academy", "beta-corp"} <= slugs
    assert body["count"] == Group.objects.count()


def test_pagination_envelope_with_next_and_previous(su_api):
    GroupFactory.create_batch(55)
    first = su_api.get("/api/v1/groups/").json()
    assert first["count"] == Group.objects.count() > 50
    assert len(first["results"]) == 50
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/groups/?page=2")
    second = su_api.get("/api/v1/groups/?page=2").json()
    assert len(second["results"]) == first["count"] - 50
    assert second["next"] is None
    assert second["previous"] is not None


def test_a_page_past_the_end_is_a_json_404(su_api):
    response = su_api.get("/api/v1/groups/?page=99")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}
    for page in ("abc", "", "last", "0", "1.5"):
        assert su_api.get(f"/api/v1/groups/?page={page}").status_code == 404, page
    assert su_api.get("/api/v1/groups/?page=1").status_code == 200


def test_admin_sees_only_the_groups_they_administer(a_api, group_a, group_b):
    body = a_api.get("/api/v1/groups/").json()
    assert body["results"] == [
        {"slug": "acme-academy", "name": "Acme Academy", "parent": None, "is_public": False}
    ]


def test_learner_sees_no_group(learner_api, group_a):
    body = learner_api.get("/api/v1/groups/").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_group_detail(a_api, group_a):
    GroupFactory(slug="sales", name="Sales", parent=group_a, is_public=True)
    response = a_api.get("/api/v1/groups/sales/")
    assert response.status_code == 404  # a child is not administered by inheritance
    response = a_api.get("/api/v1/groups/acme-academy/")
    assert response.status_code == 200
    assert response.json() == {
        "slug": "acme-academy",
        "name": "Acme Academy",
        "parent": None,
        "is_public": False,
    }


def test_superuser_creates_a_top_level_group(su_api):
    response = su_api.post(
        "/api/v1/groups/", {"slug": "new-root", "name": "New root"}, format="json"
    )
    assert response.status_code == 201
    assert response.json() == {
        "slug": "new-root",
        "name": "New root",
        "parent": None,
        "is_public": False,
    }
    assert Group.objects.get(slug="new-root").parent is None


def test_admin_creates_a_child_of_their_group(a_api, group_a):
    body = {"slug": "sales", "name": "Sales", "parent": "acme-academy", "is_public": True}
    response = a_api.post("/api/v1/groups/", body, format="json")
    assert response.status_code == 201
    assert response.json() == body
    assert Group.objects.get(slug="sales").parent == group_a


def test_admin_cannot_create_at_the_top_level(a_api, group_a):
    response = a_api.post("/api/v1/groups/", {"slug": "root2", "name": "R"}, format="json")
    assert response.status_code == 400
    assert "only superusers" in response.json()["parent"][0]
    assert not Group.objects.filter(slug="root2").exists()


def test_admin_cannot_create_under_another_group_nor_learn_it_exists(a_api, group_a, group_b):
    for parent in ("beta-corp", "does-not-exist"):
        response = a_api.post(
            "/api/v1/groups/", {"slug": "x", "name": "X", "parent": parent}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {
            "parent": [f"No group '{parent}' among the groups you administer."]
        }


def test_learner_cannot_create_groups(learner_api, group_a):
    response = learner_api.post(
        "/api/v1/groups/", {"slug": "x", "name": "X", "parent": "acme-academy"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Only superusers and group admins can create these."}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "No slug"}, "slug", "This field is required."),
        ({"slug": "acme-academy", "name": "Dup"}, "slug", "A group with this slug already exists."),
        ({"slug": "bad slug!", "name": "X"}, "slug", "Enter a valid"),
        ({"slug": "ok", "name": ""}, "name", "This field may not be blank."),
        ({"slug": "ok", "name": 12}, "name", "Not a valid string."),
        ({"slug": "ok", "name": "X", "is_public": "yes"}, "is_public", "Must be true or false."),
        ({"slug": "ok", "name": "x" * 201}, "name", "no more than 200 characters"),
    ],
)
def test_create_validation_errors(su_api, group_a, body, field, message):
    response = su_api.post("/api/v1/groups/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_a_list_body_is_a_clear_400(su_api):
    response = su_api.post("/api/v1/groups/", [1, 2], format="json")
    assert response.status_code == 400
    assert "Expected a dictionary" in response.json()["non_field_errors"][0]


def test_patch_renames_and_publishes(a_api, group_a):
    response = a_api.patch(
        "/api/v1/groups/acme-academy/", {"name": "Acme U", "is_public": True}, format="json"
    )
    assert response.status_code == 200
    group_a.refresh_from_db()
    assert (group_a.name, group_a.is_public) == ("Acme U", True)


def test_patch_cannot_change_the_slug(a_api, group_a):
    response = a_api.patch("/api/v1/groups/acme-academy/", {"slug": "other"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"slug": ["The slug can't be changed."]}
    # Sending the same slug back is fine (a client PATCHing what it read).
    ok = a_api.patch("/api/v1/groups/acme-academy/", {"slug": "acme-academy"}, format="json")
    assert ok.status_code == 200


def test_patch_refuses_a_cycle(su_api, group_a):
    child = GroupFactory(slug="child", parent=group_a)
    GroupFactory(slug="grandchild", parent=child)
    for parent in ("acme-academy", "grandchild"):
        response = su_api.patch("/api/v1/groups/acme-academy/", {"parent": parent}, format="json")
        assert response.status_code == 400
        assert "under itself" in response.json()["parent"][0]


def test_platform_group_stays_the_root(su_api, group_a):
    platform = Group.objects.get(is_platform=True)
    response = su_api.patch(
        f"/api/v1/groups/{platform.slug}/", {"parent": "acme-academy"}, format="json"
    )
    assert response.status_code == 400
    assert "root of the tree" in response.json()["parent"][0]


def test_admin_cannot_move_their_group_to_the_top(a_api, su_api, group_a):
    platform = Group.objects.get(is_platform=True)
    group_a.parent = platform
    group_a.save()
    response = a_api.patch("/api/v1/groups/acme-academy/", {"parent": None}, format="json")
    assert response.status_code == 400
    group_a.refresh_from_db()
    assert group_a.parent == platform
    # A superuser may.
    assert (
        su_api.patch("/api/v1/groups/acme-academy/", {"parent": None}, format="json").status_code
        == 200
    )


def test_sending_back_the_parent_you_read_is_not_a_move(a_api, group_a):
    platform = Group.objects.get(is_platform=True)
    group_a.parent = platform
    group_a.save()
    read = a_api.get("/api/v1/groups/acme-academy/").json()
    assert read["parent"] == platform.slug
    response = a_api.patch("/api/v1/groups/acme-academy/", {**read, "name": "Acme U"}, "json")
    assert response.status_code == 200
    assert response.json()["parent"] == platform.slug
    # ...but that group still can't be the parent of a new one.
    response = a_api.post(
        "/api/v1/groups/", {"slug": "x", "name": "X", "parent": platform.slug}, format="json"
    )
    assert response.status_code == 400
    # A root group's admin may send back parent null too: unchanged, so not a move.
    group_a.parent = None
    group_a.save()
    response = a_api.patch("/api/v1/groups/acme-academy/", {"parent": None}, format="json")
    assert response.status_code == 200
