"""GET, POST /api/v1/learners/."""

from __future__ import annotations

import pytest

from catalog.models import Learner, Membership
from tests.factories import LearnerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_admin_creates_a_learner_in_their_group(a_api, group_a):
    body = {"email": "Nina@Example.com", "first_name": "Nina", "groups": ["acme-academy"]}
    response = a_api.post("/api/v1/learners/", body, format="json")
    assert response.status_code == 201
    assert response.json() == {
        "email": "Nina@Example.com",
        "first_name": "Nina",
        "last_name": "",
        "groups": ["acme-academy"],
    }
    learner = Learner.objects.get(email="Nina@Example.com")
    assert learner.memberships.get().role == Membership.Role.LEARNER


def test_an_existing_email_any_case_is_a_clear_400(a_api, group_a):
    # A learner of the admin's own group: they can list it, so the answer names it.
    MembershipFactory(learner=LearnerFactory(email="taken@example.com"), group=group_a)
    response = a_api.post(
        "/api/v1/learners/",
        {"email": "TAKEN@example.COM", "groups": ["acme-academy"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"email": ["A learner with this email already exists."]}


def test_the_race_between_two_identical_creations_is_a_400(a_api, group_a, monkeypatch):
    # The serializer's check passes, then the database constraint fires (the other request won).
    monkeypatch.setattr(
        "catalog.api.serializers.LearnerCreateSerializer.validate_email",
        lambda self, value: value,
    )
    MembershipFactory(learner=LearnerFactory(email="race@example.com"), group=group_a)
    response = a_api.post(
        "/api/v1/learners/", {"email": "Race@example.com", "groups": ["acme-academy"]}, "json"
    )
    assert response.status_code == 400
    assert response.json() == {"email": ["A learner with this email already exists."]}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"groups": ["acme-academy"]}, "email", "This field is required."),
        ({"email": "not-an-email", "groups": ["acme-academy"]}, "email", "valid email"),
        ({"email": 42, "groups": ["acme-academy"]}, "email", "valid email"),
        ({"email": "a@example.com"}, "groups", "Choose at least one group you administer."),
        ({"email": "a@example.com", "groups": []}, "groups", "Choose at least one group"),
        ({"email": "a@example.com", "groups": "acme-academy"}, "groups", "Expected a list"),
        (
            {"email": "a@example.com", "groups": ["beta-corp"]},
            "groups",
            "No group 'beta-corp' among the groups you administer.",
        ),
        (
            {"email": "a@example.com", "groups": ["acme-academy"], "first_name": "x" * 151},
            "first_name",
            "no more than 150 characters",
        ),
    ],
)
def test_create_validation_errors(a_api, group_a, group_b, body, field, message):
    response = a_api.post("/api/v1/learners/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Learner.objects.filter(email="a@example.com").exists()


def test_superuser_may_create_a_learner_without_group(su_api):
    response = su_api.post("/api/v1/learners/", {"email": "free@example.com"}, format="json")
    assert response.status_code == 201
    assert response.json()["groups"] == []


def test_learner_cannot_create_learners(learner_api, group_a):
    response = learner_api.post(
        "/api/v1/learners/", {"email": "x@example.com", "groups": ["acme-academy"]}, "json"
    )
    assert response.status_code == 403
    assert "group admins" in response.json()["detail"]


def test_admin_lists_only_their_learners_and_only_their_groups(
    a_api, admin_a, group_a, group_b, learner_a
):
    shared = LearnerFactory(email="shared@example.com")
    MembershipFactory(learner=shared, group=group_a)
    MembershipFactory(learner=shared, group=group_b)
    LearnerFactory(email="outsider@example.com")
    MembershipFactory(learner=LearnerFactory(email="b-only@example.com"), group=group_b)
    body = a_api.get("/api/v1/learners/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    emails = {row["email"]: row["groups"] for row in body["results"]}
    assert emails == {
        admin_a.email: ["acme-academy"],
        learner_a.email: ["acme-academy"],
        "shared@example.com": ["acme-academy"],  # beta-corp is not revealed
    }


def test_superuser_sees_all_learners_with_all_groups(su_api, group_a, group_b):
    shared = LearnerFactory(email="shared@example.com")
    MembershipFactory(learner=shared, group=group_a)
    MembershipFactory(learner=shared, group=group_b)
    rows = su_api.get("/api/v1/learners/?email=SHARED@example.com").json()["results"]
    assert rows == [
        {
            "email": "shared@example.com",
            "first_name": shared.first_name,
            "last_name": shared.last_name,
            "groups": ["acme-academy", "beta-corp"],
        }
    ]


def test_group_filter(a_api, group_a, group_b, learner_a):
    assert a_api.get("/api/v1/learners/?group=acme-academy").json()["count"] == 2
    response = a_api.get("/api/v1/learners/?group=beta-corp")
    assert response.status_code == 404
    assert a_api.get("/api/v1/learners/?group=bad slug").status_code == 400


def test_learner_sees_no_learners(learner_api, group_a):
    assert learner_api.get("/api/v1/learners/").json()["results"] == []


def test_list_queries_do_not_grow_with_the_page(su_api, group_a, django_assert_max_num_queries):
    for n in range(30):
        MembershipFactory(learner=LearnerFactory(email=f"many{n}@example.com"), group=group_a)
    with django_assert_max_num_queries(6):
        assert su_api.get("/api/v1/learners/").json()["count"] >= 30
