"""Console pages of the platform connection: form, Test connection, import, push, dry run,
history; secrets never rendered; another group's admin (or a learner) gets 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import PlatformConnection, PlatformLedgerItem, PlatformRun
from tests.factories import CourseFactory, IntegrationFactory

from .conftest import LU_SECRET

pytestmark = [pytest.mark.django_db]


def url(name: str, group, **kwargs) -> str:
    return reverse(f"platforms:{name}", kwargs={"slug": group.slug, **kwargs})


def lu_form(sandbox, **overrides) -> dict:
    data = {
        "kind": "learnupon",
        "learnupon_portal": "demo",
        "learnupon_username": sandbox.username,
        "learnupon_password": sandbox.password,
        "learnupon_owner_id": "1",
        "target_group_id": "5001",
        "learnupon_cataloged": "True",
        "base_url": sandbox.api_base_url,
        "push_after_sync": "on",
        "action": "save",
    }
    return {**data, **overrides}


def test_the_form_saves_then_tests_the_connection(
    page_client_for, admin_a, group_a, learnupon_sandbox
):
    client = page_client_for(admin_a)
    page = client.get(url("connection", group_a))
    assert page.status_code == 200 and b'data-testid="connection-form"' in page.content

    response = client.post(url("connection", group_a), lu_form(learnupon_sandbox), follow=True)
    assert b"Settings saved. Connection OK." in response.content  # verified, then stored
    connection = PlatformConnection.objects.get(group=group_a)
    assert connection.learnupon_password == LU_SECRET
    assert connection.status == PlatformConnection.Status.ACTIVE

    response = client.post(
        url("connection", group_a),
        lu_form(learnupon_sandbox, learnupon_password="", action="test"),
        follow=True,
    )
    assert b"Connection OK." in response.content and b"4 group(s)" in response.content
    connection.refresh_from_db()
    assert connection.status == PlatformConnection.Status.ACTIVE
    assert b"Write-only: a secret is stored" in response.content
    assert b'data-testid="audit-trail"' in response.content


def test_a_failed_test_gives_a_clear_verdict(page_client_for, admin_a, group_a, learnupon_sandbox):
    client = page_client_for(admin_a)
    client.post(url("connection", group_a), lu_form(learnupon_sandbox))
    learnupon_sandbox.password = "rotated-in-learnupon"  # the stored keys stop working
    response = client.post(url("test", group_a), follow=True)
    assert b"Connection failed (bad_credentials)" in response.content
    assert b"LearnUpon rejected the API credentials" in response.content


def test_invalid_settings_are_refused_with_the_reason(
    page_client_for, admin_a, group_a, learnupon_sandbox
):
    client = page_client_for(admin_a)
    response = client.post(
        url("connection", group_a),
        lu_form(learnupon_sandbox, base_url="https://evil.example.com/", learnupon_owner_id="x1"),
    )
    assert response.status_code == 400
    assert b"evil.example.com is not allowed" in response.content
    assert b"Use the numeric id" in response.content
    assert LU_SECRET.encode() not in response.content  # the typed secret is not echoed
    assert not PlatformConnection.objects.exists()


def test_import_and_history(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection, record_platform_enqueue,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make_connection(learnupon_sandbox, group=group_a)
    client = page_client_for(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("request", group_a, kind="directory"), follow=True)
    run = PlatformRun.objects.get()
    assert record_platform_enqueue == [run.pk]
    assert response.redirect_chain[-1][0] == url("run", group_a, run_id=run.pk)
    assert b"is queued" in response.content
    history = client.get(url("runs", group_a))
    assert f"#{run.pk}".encode() in history.content


def test_dry_run_page_lists_the_plan_and_sends_nothing(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    connection = make_connection(learnupon_sandbox, group=group_a)
    integration = IntegrationFactory(group=group_a)
    CourseFactory(integration=integration, title="Kubernetes for everyone")
    response = page_client_for(admin_a).post(
        url("request", group_a, kind="push"), {"dry_run": "1"}, follow=True
    )
    assert b'data-testid="dry-run-plan"' in response.content
    assert b"Kubernetes for everyone" in response.content
    assert b"create+publish" in response.content
    assert learnupon_sandbox.request_log == []
    assert PlatformRun.objects.get(connection=connection).dry_run


def test_runs_need_a_tested_connection(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    make_connection(learnupon_sandbox, group=group_a, status=PlatformConnection.Status.INACTIVE)
    response = page_client_for(admin_a).post(url("request", group_a, kind="push"), follow=True)
    assert b"Test the connection successfully" in response.content
    assert not PlatformRun.objects.exists()


def test_coursebase_has_no_push(
    page_client_for, admin_a, group_a, coursebase_sandbox, make_connection
):
    make_connection(coursebase_sandbox, group=group_a)
    client = page_client_for(admin_a)
    assert b"Dry run" not in client.get(url("connection", group_a)).content
    response = client.post(url("request", group_a, kind="push"), follow=True)
    assert b"can&#x27;t receive a push" in response.content


def test_run_page_shows_errors_and_counts(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection, run_platform
):
    learnupon_sandbox.data.users[2]["email"] = ""
    run = run_platform(make_connection(learnupon_sandbox, group=group_a))
    page = page_client_for(admin_a).get(url("run", group_a, run_id=run.pk))
    assert page.status_code == 200
    assert b"No e-mail address" in page.content and b"no_email" not in page.content
    assert b'data-testid="run-streams"' in page.content


def test_secrets_are_never_rendered(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection, run_platform
):
    connection = make_connection(learnupon_sandbox, group=group_a)
    run = run_platform(connection, kind="push", dry_run=True)
    client = page_client_for(admin_a)  # scans every response for the secrets
    for target in (
        url("connection", group_a),
        url("runs", group_a),
        url("run", group_a, run_id=run.pk),
    ):
        assert client.get(target).status_code == 200


@pytest.mark.parametrize("who", ["other_admin", "learner"])
def test_other_groups_and_learners_get_404(
    who,
    page_client_for,
    admin_b,
    learner_a,
    group_a,
    learnupon_sandbox,
    make_connection,
    run_platform,
):
    run = run_platform(make_connection(learnupon_sandbox, group=group_a), kind="push", dry_run=True)
    client = page_client_for(admin_b if who == "other_admin" else learner_a)
    for target in (
        url("connection", group_a),
        url("runs", group_a),
        url("run", group_a, run_id=run.pk),
    ):
        assert client.get(target).status_code == 404
    for target in (
        url("connection", group_a),
        url("test", group_a),
        url("request", group_a, kind="directory"),
    ):
        assert client.post(target, {"kind": "learnupon"}).status_code == 404
    assert PlatformRun.objects.count() == 1


def test_a_run_of_another_group_is_404_from_my_group(
    page_client_for, admin_b, group_a, group_b, learnupon_sandbox, make_connection, run_platform
):
    run = run_platform(make_connection(learnupon_sandbox, group=group_a), kind="push", dry_run=True)
    response = page_client_for(admin_b).get(url("run", group_b, run_id=run.pk))
    assert response.status_code == 404


def test_anonymous_users_are_sent_to_login(page_client_for, group_a):
    response = page_client_for(None).get(url("connection", group_a))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_auto_enrollment_page_names_the_count_and_needs_it_typed(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    connection = make_connection(learnupon_sandbox, group=group_a)
    CourseFactory.create_batch(3, integration=IntegrationFactory(group=group_a))
    client = page_client_for(admin_a)
    page = client.get(url("connection", group_a))
    assert b'data-testid="auto-enroll-preview"' in page.content
    members = len(learnupon_sandbox.data.memberships[int(connection.target_group_id)])
    total = 3 * members

    preview = client.post(url("auto_enroll", group_a), {"action": "preview"})
    assert f"3 courses × {members} members = {total:,} enrollments".encode() in preview.content
    wrong = client.post(
        url("auto_enroll", group_a), {"action": "enable", "confirm_enrollments": "1"}, follow=True
    )
    assert str(total).encode() in wrong.content
    connection.refresh_from_db()
    assert connection.auto_enroll is False
    client.post(
        url("auto_enroll", group_a), {"action": "enable", "confirm_enrollments": str(total)}
    )
    connection.refresh_from_db()
    assert connection.auto_enroll is True and connection.re_enroll_completed is False
    assert learnupon_sandbox.writes() == []


def test_links_of_earlier_versions_are_listed_for_undoing(
    page_client_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    connection = make_connection(learnupon_sandbox, group=group_a)
    PlatformLedgerItem.objects.create(
        connection=connection,
        item_type="course",
        local_id="1",
        remote_id="900001",
        state={"group_id": "5001", "group_course_id": "900002", "published": True},
    )
    client = page_client_for(admin_a)
    page = client.get(url("connection", group_a))
    assert b'data-testid="earlier-links"' in page.content and b"900001" in page.content
    client.post(url("auto_enroll", group_a), {"action": "unlink_earlier"})
    assert PlatformLedgerItem.objects.get().state["unlink"] is True
