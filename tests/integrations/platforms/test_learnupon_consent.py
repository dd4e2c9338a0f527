"""LearnUpon auto-enrollment consent is a number: linking courses to the target group enrolls
courses × members (the sandbox enrolls them), and a push that would go beyond the confirmed
number links nothing more, ends visibly waiting, and asks again on the page and in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from integrations.models import Integration, PlatformConnection, PlatformRun
from integrations.services.platforms import auto_enroll_preview, auto_enroll_set
from tests.factories import CourseFactory, UserFactory, group_admin
from tests.integrations.platforms.test_learnupon_push import make_courses

pytestmark = pytest.mark.django_db


@pytest.fixture
def lu(make_learnupon_sandbox):
    return make_learnupon_sandbox(users=30)


@pytest.fixture
def connection(lu, make_connection):
    return make_connection(lu)


def more_courses(connection, n: int) -> None:
    """A later Udemy sync brings `n` more courses."""
    integration = Integration.objects.get(group=connection.group)
    for _ in range(n):
        CourseFactory(integration=integration)


def members(lu, connection) -> int:
    return len(lu.data.memberships[int(connection.target_group_id)])


def confirm(connection, admin=None) -> int:
    """The admin reads the dry run and types its number."""
    estimate = auto_enroll_preview(connection=connection)
    auto_enroll_set(
        connection=connection,
        actor=admin or UserFactory(),
        enabled=True,
        confirm_enrollments=estimate.enrollments,
    )
    connection.refresh_from_db()
    return estimate.enrollments


def test_a_consent_for_zero_enrollments_is_not_a_consent_for_more(lu, connection, run_platform):
    """Confirmed while the catalog was empty (0 courses × M members = 0): after a sync brings
    courses, the push creates and publishes them but links none, and ends waiting for a new
    confirmation that names the number."""
    size = members(lu, connection)
    assert size > 0
    assert confirm(connection) == 0
    assert connection.auto_enroll is True and connection.auto_enroll_consent == 0

    make_courses(connection, 6)  # the Udemy sync
    run = run_platform(connection, kind="push")

    assert lu.data.group_courses == {} and lu.data.enrollments == {}  # nobody enrolled
    assert len(lu.data.courses) == 6  # the rest of the push went on
    assert all(c["published_status_id"] == "published" for c in lu.data.courses.values())
    expected = (
        f"waiting for your confirmation: 6 courses × {size} members = "
        f"{6 * size:,} enrollments, you confirmed 0"
    )
    assert run.status == PlatformRun.Status.PARTIAL
    assert expected in run.error_summary.lower()
    assert run.errors.filter(category="confirmation_needed").exists()
    connection.refresh_from_db()
    waiting = connection.auto_enroll_waiting
    assert (waiting["courses"], waiting["members"], waiting["enrollments"]) == (6, size, 6 * size)
    assert waiting["confirmed"] == 0 and waiting["run"] == run.pk


def test_a_new_confirmation_sets_the_new_number_and_links(lu, connection, run_platform):
    size = members(lu, connection)
    confirm(connection)
    make_courses(connection, 3)
    run_platform(connection, kind="push")
    admin = UserFactory()

    assert confirm(connection, admin) == 3 * size
    assert connection.auto_enroll_consent == 3 * size
    assert (connection.auto_enroll_consent_courses, connection.auto_enroll_consent_members) == (
        3,
        size,
    )
    assert connection.auto_enroll_consent_by == admin and connection.auto_enroll_consent_at
    entry = connection.audit.filter(action="auto_enroll_confirm").latest("pk")
    assert entry.actor == admin and f"{3 * size:,} enrollments" in entry.detail

    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    assert len(lu.data.group_courses) == 3 and len(lu.data.enrollments) == 3 * size
    connection.refresh_from_db()
    assert connection.auto_enroll_waiting == {}

    more_courses(connection, 1)  # one more course: 4 × size > 3 × size
    again = run_platform(connection, kind="push")
    assert again.status == PlatformRun.Status.PARTIAL
    assert len(lu.data.group_courses) == 3 and len(lu.data.enrollments) == 3 * size
    assert f"4 courses × {size} members" in again.error_summary


def test_a_bigger_group_needs_a_new_confirmation(lu, connection, run_platform):
    """The number covers members too: the same courses for a group that grew are more
    enrollments than confirmed."""
    make_courses(connection, 2)
    confirm(connection)
    target = int(connection.target_group_id)
    outsider = next(u for u in lu.data.users if u["id"] not in lu.data.memberships[target])
    lu.data.memberships[target].append(outsider["id"])  # joins before anything is linked
    run = run_platform(connection, kind="push")
    assert lu.data.group_courses == {}
    assert run.status == PlatformRun.Status.PARTIAL


def test_the_waiting_state_is_asked_again_on_the_page_and_in_the_api(
    lu, make_connection, run_platform
):
    connection = make_connection(lu)
    admin = group_admin(connection.group, username="carol")
    confirm(connection, admin)
    make_courses(connection, 2)
    run_platform(connection, kind="push")
    size = members(lu, connection)
    number = f"{2 * size:,}"

    api = APIClient()
    api.force_authenticate(admin)
    body = api.get(f"/api/v1/groups/{connection.group.slug}/platform/").json()
    assert body["auto_enroll_waiting"]["enrollments"] == 2 * size
    assert body["auto_enroll_waiting"]["confirmed"] == 0
    assert "waiting for your confirmation" in body["auto_enroll_waiting"]["message"].lower()
    assert body["auto_enroll_consent"]["enrollments"] == 0
    assert body["auto_enroll_consent"]["confirmed_by"] == "carol"

    from django.test import Client

    web = Client()
    web.force_login(admin)
    page = web.get(reverse("platforms:connection", kwargs={"slug": connection.group.slug}))
    text = page.content.decode()
    assert 'data-testid="auto-enroll-waiting"' in text
    assert f"= {number} enrollments" in text and "you confirmed 0" in text

    preview = api.get(f"/api/v1/groups/{connection.group.slug}/platform/auto-enrollment/")
    assert (preview.json()["enrollments"], preview.json()["confirmed"]) == (2 * size, 0)

    # The API confirms the new number like the page does.
    refused = api.post(
        f"/api/v1/groups/{connection.group.slug}/platform/auto-enrollment/",
        {"enabled": True, "confirm_enrollments": 0},
        format="json",
    )
    assert refused.status_code == 409 and number in refused.json()["detail"]
    accepted = api.post(
        f"/api/v1/groups/{connection.group.slug}/platform/auto-enrollment/",
        {"enabled": True, "confirm_enrollments": 2 * size},
        format="json",
    )
    assert accepted.status_code == 200
    assert accepted.json()["auto_enroll_consent"]["enrollments"] == 2 * size
    assert accepted.json()["auto_enroll_waiting"] is None
    connection.refresh_from_db()
    assert connection.auto_enroll_waiting == {}


def test_a_dry_run_shows_the_links_waiting_for_confirmation(lu, connection, run_platform):
    confirm(connection)
    make_courses(connection, 2)
    lu.reset_log()
    run = run_platform(connection, kind="push", dry_run=True)
    assert lu.request_log == []  # the member count confirmed last: no request
    assert all("attach" not in entry["action"] for entry in run.plan)
    assert run.details["courses"].get("link_waiting") == 2


def test_an_upgraded_connection_without_a_number_links_nothing_new(
    lu, make_connection, run_platform
):
    """Turned on before the consent had a number: nothing confirmed, nothing new linked."""
    connection = make_connection(lu, auto_enroll=True)
    make_courses(connection, 2)
    run = run_platform(connection, kind="push")
    assert lu.data.group_courses == {} and run.status == PlatformRun.Status.PARTIAL
    connection.refresh_from_db()
    assert connection.auto_enroll_waiting["confirmed"] is None
    assert PlatformConnection.objects.get(pk=connection.pk).auto_enroll is True


def test_the_page_asks_again_and_takes_the_new_number(lu, make_connection, run_platform):
    from django.test import Client

    connection = make_connection(lu)
    admin = group_admin(connection.group, username="dana")
    confirm(connection, admin)
    make_courses(connection, 2)
    run_platform(connection, kind="push")
    size = members(lu, connection)
    web = Client()
    web.force_login(admin)
    action = reverse("platforms:auto_enroll", kwargs={"slug": connection.group.slug})

    preview = web.post(action, {"action": "preview"}).content.decode()
    assert f"Type {2 * size} to confirm" in preview and "You confirmed 0 enrollments" in preview
    web.post(action, {"action": "enable", "confirm_enrollments": str(2 * size)})
    connection.refresh_from_db()
    assert connection.auto_enroll_consent == 2 * size and connection.auto_enroll_waiting == {}
    assert connection.auto_enroll_consent_by == admin
    page = web.get(reverse("platforms:connection", kwargs={"slug": connection.group.slug}))
    assert 'data-testid="auto-enroll-waiting"' not in page.content.decode()
    assert run_platform(connection, kind="push").status == PlatformRun.Status.SUCCEEDED
    assert len(lu.data.enrollments) == 2 * size
