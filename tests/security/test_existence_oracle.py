"""Promise (Secrets and access): a refused write never tells a group's admin what exists outside
what they can list. E-mails and slugs are unique site-wide, so "taken" can't be hidden from whoever
tries to create one; what is hidden is *where*: another tenant's learner or group gets the very
answer a learner or group of the caller's own subtree that they can't list gets (a learner of a
subgroup they don't administer, a learner in no group), and nothing of it is touched. What the
caller can list (GET /learners/, GET /groups/; everything for a superuser) is named precisely.

The directory import says the same of the same e-mails (see `platforms/test_directory_isolation`):
the run page counts them as e-mails that "cannot be used in this group", never naming them.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.api.serializers import (
    EMAIL_TAKEN,
    EMAIL_UNUSABLE,
    SLUG_TAKEN,
    SLUG_UNAVAILABLE,
)
from catalog.models import Group, Learner, Membership
from integrations.models import PlatformConnection, PlatformRun
from tests.factories import GroupFactory, LearnerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def learner_state() -> list[tuple]:
    """Every learner with every field and membership: what no refusal may change."""
    rows = Learner.objects.order_by("pk").values_list(
        "pk", "email", "first_name", "last_name", "is_active", "remote_kind", "remote_id", "user"
    )
    memberships = Membership.objects.order_by("pk").values_list("learner", "group", "role")
    return [*rows, *memberships]


@pytest.fixture
def emails(group_a, group_b) -> dict[str, str]:
    """One e-mail in each place a learner can be, seen from group A's admin."""
    subgroup = GroupFactory(slug="group-a-team", parent=group_a, is_public=True)
    places = {
        "group B's learner": group_b,
        "A's subgroup's learner (A's own tenant, not listed to A's admin)": subgroup,
        "a learner in no group": None,
    }
    result = {}
    for n, (place, group) in enumerate(places.items()):
        learner = LearnerFactory(email=f"person{n}@example.com", first_name=f"Name{n}")
        if group is not None:
            MembershipFactory(group=group, learner=learner)
        result[place] = learner.email
    return result


def create_learner(client: APIClient, email: str, group: str = "group-a"):
    return client.post("/api/v1/learners/", {"email": email, "groups": [group]}, format="json")


def test_an_email_held_elsewhere_answers_as_one_of_your_own_subtree(admin_a, emails):
    client = api_as(admin_a)
    before = learner_state()
    answers = {}
    for place, email in emails.items():
        for spelling in (email, email.upper()):
            response = create_learner(client, spelling)
            answers[(place, spelling)] = (response.status_code, response.json())
    for (place, spelling), answer in answers.items():
        assert answer == (400, {"email": [EMAIL_UNUSABLE]}), f"{place} ({spelling}): {answer}"
    assert learner_state() == before  # nothing created, linked or renamed


def test_an_email_you_can_list_is_named(admin_a, group_a):
    MembershipFactory(group=group_a, learner=LearnerFactory(email="mine@example.com"))
    response = create_learner(api_as(admin_a), "Mine@Example.com")
    assert (response.status_code, response.json()) == (400, {"email": [EMAIL_TAKEN]})


def test_a_superuser_gets_the_precise_answer_everywhere(emails):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123!")
    client = api_as(root)
    for place, email in emails.items():
        response = client.post("/api/v1/learners/", {"email": email}, format="json")
        assert (response.status_code, response.json()) == (400, {"email": [EMAIL_TAKEN]}), place


def test_a_lost_race_answers_by_the_same_rule(admin_a, emails, monkeypatch):
    """The serializer's check passes, then the service finds the e-mail taken (the database
    constraint settles a real race): the answer still depends only on what A can list."""
    monkeypatch.setattr(
        "catalog.api.serializers.LearnerCreateSerializer.validate_email",
        lambda self, value: value,
    )
    before = learner_state()
    response = create_learner(api_as(admin_a), emails["group B's learner"])
    assert (response.status_code, response.json()) == (400, {"email": [EMAIL_UNUSABLE]})
    assert learner_state() == before


def test_a_free_email_is_created(admin_a, emails):
    response = create_learner(api_as(admin_a), "someone-new@example.com")
    assert response.status_code == 201


def test_a_slug_held_elsewhere_answers_as_one_of_your_own_subtree(admin_a, group_a, group_b):
    GroupFactory(slug="group-a-child", parent=group_a)  # A's own subtree, not administered
    Group.objects.filter(slug="group-b").update(name="Beta")
    client = api_as(admin_a)
    answers = {
        slug: client.post(
            "/api/v1/groups/", {"slug": slug, "name": "X", "parent": "group-a"}, format="json"
        )
        for slug in ("group-b", "group-a-child")
    }
    for slug, response in answers.items():
        assert (response.status_code, response.json()) == (400, {"slug": [SLUG_UNAVAILABLE]}), slug
    assert Group.objects.get(slug="group-b").name == "Beta"
    assert Group.objects.filter(name="X").count() == 0


def test_a_slug_you_can_list_is_named_and_a_superuser_gets_it_everywhere(admin_a, group_b):
    body = {"slug": "group-a", "name": "X", "parent": "group-a"}
    response = api_as(admin_a).post("/api/v1/groups/", body, format="json")
    assert (response.status_code, response.json()) == (400, {"slug": [SLUG_TAKEN]})
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123!")
    response = api_as(root).post("/api/v1/groups/", {"slug": "group-b", "name": "X"}, "json")
    assert (response.status_code, response.json()) == (400, {"slug": [SLUG_TAKEN]})


def test_the_import_page_counts_unusable_emails_without_naming_them(
    admin_a, group_a, group_b, emails
):
    """The console's side of the same rule: the directory import's run page says how many
    platform users have an e-mail that cannot be used in this group, never which."""
    connection = PlatformConnection.objects.create(
        group=group_a, kind="coursebase", coursebase_domain="acme", coursebase_token="t0ken-x"
    )
    run = PlatformRun.objects.create(
        connection=connection,
        kind=PlatformRun.Kind.DIRECTORY,
        trigger=PlatformRun.Trigger.MANUAL,
        status=PlatformRun.Status.SUCCEEDED,
        details={"users": {"fetched": 3, "conflicts": 2}},
    )
    client = Client()
    client.force_login(admin_a)
    page = client.get(f"/groups/group-a/settings/platform/runs/{run.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "2 platform users have an e-mail that cannot be used in this group" in text
    for email in emails.values():
        assert email not in text


def test_naming_a_group_you_do_not_administer_answers_as_a_missing_one(admin_a, group_a, group_b):
    """Editing (a move under another parent) and creating (a learner in a group) name groups by
    slug too: another tenant's answers exactly as one that does not exist."""
    client = api_as(admin_a)

    def answers(slug: str) -> list:
        move = client.patch("/api/v1/groups/group-a/", {"parent": slug}, format="json")
        learner = create_learner(client, "someone@example.com", group=slug)
        child = client.post(
            "/api/v1/groups/", {"slug": "kid", "name": "Kid", "parent": slug}, format="json"
        )
        bodies = [r.json() for r in (move, learner, child)]
        return [r.status_code for r in (move, learner, child)] + [
            str(body).replace(slug, "<slug>") for body in bodies
        ]

    assert answers("group-b") == answers("no-such-group")
    assert Group.objects.get(slug="group-a").parent is None
    assert not Learner.objects.filter(email="someone@example.com").exists()
