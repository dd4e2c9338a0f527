"""API of the platform connection: GET/PUT connection, POST test, POST import, POST push
{dry_run}, GET runs; secrets write-only; 404 across groups; 401 without credentials."""

from __future__ import annotations

import pytest

from integrations.models import PlatformConnection, PlatformRun
from tests.factories import CourseFactory, IntegrationFactory

from .conftest import LU_SECRET

pytestmark = [pytest.mark.django_db]

BASE = "/api/v1/groups/{slug}/platform/"


def base(group, suffix: str = "") -> str:
    return BASE.format(slug=group.slug) + suffix


def lu_body(sandbox, **overrides) -> dict:
    body = {
        "platform": "learnupon",
        "learnupon_portal": "demo",
        "learnupon_username": sandbox.username,
        "learnupon_password": sandbox.password,
        "learnupon_owner_id": "1",
        "target_group_id": "5001",
        "learnupon_cataloged": True,
        "base_url": sandbox.api_base_url,
    }
    return {**body, **overrides}


def test_put_get_and_write_only_secret(api_for, admin_a, group_a, learnupon_sandbox):
    api = api_for(admin_a)
    assert api.get(base(group_a)).status_code == 404

    created = api.put(base(group_a), lu_body(learnupon_sandbox), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert "learnupon_password" not in data and data["learnupon_password_set"] is True
    # verified before it was stored: active at once
    assert data["status"] == "active" and data["push_after_sync"] is True

    again = api.put(base(group_a), lu_body(learnupon_sandbox, learnupon_password=""), format="json")
    assert again.status_code == 200
    assert PlatformConnection.objects.get().learnupon_password == LU_SECRET
    assert api.get(base(group_a)).json()["target_group_id"] == "5001"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_url": "https://evil.example.com/api/v1/"}, "base_url"),
        ({"learnupon_portal": "a.b/c", "base_url": ""}, "learnupon_portal"),
        ({"learnupon_password": ""}, "learnupon_password"),
        ({"learnupon_owner_id": "abc"}, "learnupon_owner_id"),
        ({"platform": "moodle"}, "platform"),
        ({"push_after_sync": "yes"}, "push_after_sync"),
    ],
)
def test_put_validates(api_for, admin_a, group_a, learnupon_sandbox, overrides, field):
    response = api_for(admin_a).put(
        base(group_a), lu_body(learnupon_sandbox, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not PlatformConnection.objects.exists()


def test_coursebase_domain_must_be_allowed(api_for, admin_a, group_a, settings):
    body = {
        "platform": "coursebase",
        "coursebase_domain": "learn.acme.com",
        "coursebase_token": "t",
    }
    response = api_for(admin_a).put(base(group_a), body, format="json")
    assert response.status_code == 400
    assert "PLATFORM_ALLOWED_HOSTS" in response.json()["coursebase_domain"][0]
    settings.PLATFORM_ALLOWED_HOSTS = ["learn.acme.com"]
    allowed = api_for(admin_a).put(base(group_a), body, format="json")
    # The host passes the rule; the platform can't be reached from the tests: nothing stored.
    assert allowed.status_code == 400 and "coursebase_domain" not in allowed.json()
    assert "Nothing was stored" in allowed.json()["detail"]
    assert not PlatformConnection.objects.exists()


def test_post_test_gives_a_verdict_and_activates(api_for, admin_a, group_a, learnupon_sandbox):
    api = api_for(admin_a)
    api.put(base(group_a), lu_body(learnupon_sandbox), format="json")
    response = api.post(base(group_a, "test/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["verdict"]) == (True, "ok")
    assert body["connection"]["status"] == "active"

    refused = api.put(
        base(group_a), lu_body(learnupon_sandbox, learnupon_password="bad-one"), format="json"
    )
    assert refused.status_code == 400 and refused.json()["verdict"] == "bad_credentials"
    assert api.get(base(group_a)).json()["status"] == "active"  # the refusal stored nothing
    learnupon_sandbox.password = "rotated-in-learnupon"  # the stored keys stop working
    failed = api.post(base(group_a, "test/")).json()
    assert (failed["ok"], failed["verdict"]) == (False, "bad_credentials")
    assert failed["connection"]["status"] == "error"


def test_post_import_queues_a_run(
    api_for, admin_a, group_a, learnupon_sandbox, make_connection, record_platform_enqueue,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    connection = make_connection(learnupon_sandbox, group=group_a)
    api = api_for(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(base(group_a, "import/"))
    assert response.status_code == 202
    assert response.json()["operation"] == "directory" and response.json()["status"] == "queued"
    assert record_platform_enqueue == [response.json()["id"]]

    busy = api.post(base(group_a, "import/"))
    assert busy.status_code == 409 and "already queued or running" in busy.json()["detail"]

    connection.status = PlatformConnection.Status.INACTIVE
    connection.save()
    assert api.post(base(group_a, "push/"), {}, format="json").status_code == 409


def test_post_push_dry_run_answers_the_plan_and_sends_nothing(
    api_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    make_connection(learnupon_sandbox, group=group_a)
    CourseFactory.create_batch(3, integration=IntegrationFactory(group=group_a))
    response = api_for(admin_a).post(base(group_a, "push/"), {"dry_run": True}, format="json")
    assert response.status_code == 200
    run = response.json()
    assert run["dry_run"] and run["status"] == "succeeded"
    assert [entry["action"] for entry in run["plan"]] == ["create+publish"] * 3
    assert run["counts"]["write_requests"] == 0
    assert learnupon_sandbox.writes() == [] and learnupon_sandbox.request_log == []


def test_post_push_queues_and_validates(
    api_for, admin_a, group_a, learnupon_sandbox, make_connection, record_platform_enqueue
):
    make_connection(learnupon_sandbox, group=group_a)
    api = api_for(admin_a)
    assert api.post(base(group_a, "push/"), {"dry_run": "yes"}, format="json").status_code == 400
    response = api.post(base(group_a, "push/"), {}, format="json")
    assert response.status_code == 202 and response.json()["operation"] == "push"


def test_coursebase_push_is_a_400(api_for, admin_a, group_a, coursebase_sandbox, make_connection):
    make_connection(coursebase_sandbox, group=group_a)
    response = api_for(admin_a).post(base(group_a, "push/"), {"dry_run": True}, format="json")
    assert response.status_code == 400
    assert "can't receive a push" in response.json()["detail"]


def test_get_runs_and_a_run(
    api_for, admin_a, group_a, learnupon_sandbox, make_connection, run_platform
):
    learnupon_sandbox.data.users[1]["email"] = "no-email"
    run = run_platform(make_connection(learnupon_sandbox, group=group_a))
    api = api_for(admin_a)
    listing = api.get(base(group_a, "runs/")).json()
    assert listing["count"] == 1
    assert listing["results"][0]["id"] == run.pk and listing["results"][0]["errors_count"] == 1
    detail = api.get(base(group_a, f"runs/{run.pk}/")).json()
    assert detail["errors"][0]["category"] == "no_email"
    assert detail["run"]["details"]["users"]["fetched"] == 61


def test_other_groups_get_404_everywhere(
    api_for, admin_b, learner_a, group_a, learnupon_sandbox, make_connection, run_platform
):
    run = run_platform(make_connection(learnupon_sandbox, group=group_a), kind="push", dry_run=True)
    for user in (admin_b, learner_a):
        api = api_for(user)
        assert api.get(base(group_a)).status_code == 404
        assert api.put(base(group_a), lu_body(learnupon_sandbox), format="json").status_code == 404
        assert api.post(base(group_a, "test/")).status_code == 404
        assert api.post(base(group_a, "import/")).status_code == 404
        assert api.post(base(group_a, "push/"), {"dry_run": True}, format="json").status_code == 404
        assert api.get(base(group_a, "runs/")).status_code == 404
        assert api.get(base(group_a, f"runs/{run.pk}/")).status_code == 404
    assert PlatformRun.objects.count() == 1
    assert learnupon_sandbox.request_log == []


def test_a_run_of_group_a_is_404_under_group_b(
    api_for, admin_b, group_a, group_b, learnupon_sandbox, make_connection, run_platform
):
    run = run_platform(make_connection(learnupon_sandbox, group=group_a), kind="push", dry_run=True)
    assert api_for(admin_b).get(base(group_b, f"runs/{run.pk}/")).status_code == 404


def test_anonymous_gets_401(api_for, group_a):
    assert api_for(None).get(base(group_a)).status_code == 401


def test_auto_enrollment_needs_the_dry_run_count_confirmed(
    api_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    connection = make_connection(learnupon_sandbox, group=group_a)
    CourseFactory.create_batch(2, integration=IntegrationFactory(group=group_a))
    api = api_for(admin_a)
    url = base(group_a, "auto-enrollment/")
    dry = api.get(url)
    assert dry.status_code == 200
    members = len(learnupon_sandbox.data.memberships[int(connection.target_group_id)])
    assert dry.json()["enrollments"] == 2 * members
    assert dry.json()["message"] == f"2 courses × {members} members = {2 * members:,} enrollments"

    wrong = api.post(url, {"enabled": True, "confirm_enrollments": 1}, format="json")
    assert wrong.status_code == 409 and str(2 * members) in wrong.json()["detail"]
    assert api.get(base(group_a, "")).json()["auto_enroll"] is False

    body = {"enabled": True, "confirm_enrollments": 2 * members, "re_enroll_completed": True}
    confirmed = api.post(url, body, format="json")
    assert confirmed.status_code == 200
    assert confirmed.json()["auto_enroll"] is True and confirmed.json()["re_enroll_completed"]

    off = api.post(url, {"enabled": False}, format="json")
    assert off.status_code == 200 and off.json()["auto_enroll"] is False
    assert learnupon_sandbox.writes() == []  # the choice itself sends nothing
