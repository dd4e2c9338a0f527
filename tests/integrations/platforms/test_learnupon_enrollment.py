"""LearnUpon auto-enrollment (linking courses to a group), the sandbox's strictness and the
weekly budget: the dry run's count is what the sandbox enrolls; nothing is linked unasked."""

from __future__ import annotations

import pytest
import requests

from integrations.models import PlatformConnection, PlatformRun
from integrations.platforms.base import PlatformBudgetSpent, PlatformNotFound, PlatformRejected
from integrations.platforms.learnupon.client import LearnUponClient
from integrations.services.platforms import (
    AutoEnrollNotConfirmed,
    auto_enroll_preview,
    auto_enroll_set,
    auto_enroll_unlink_earlier,
)
from tests.factories import UserFactory
from tests.integrations.platforms.test_learnupon_push import make_courses, push

pytestmark = pytest.mark.django_db
CONFIRMED = 10_000  # enrollments an admin confirmed: more than these tests link


class Clock:
    def __init__(self, now: float = 1_000_000_040.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lu(make_learnupon_sandbox):
    return make_learnupon_sandbox(users=30)


@pytest.fixture
def connection(lu, make_connection):
    return make_connection(lu)


def raw_get(lu, path: str) -> requests.Response:
    return requests.get(f"{lu.api_base_url}{path}", auth=(lu.username, lu.password), timeout=5)


def members(lu, connection) -> list[int]:
    return lu.data.memberships[int(connection.target_group_id)]


def test_the_dry_run_count_is_what_the_sandbox_enrolls(lu, connection, run_platform):
    make_courses(connection, 4)
    push(run_platform, connection)
    assert lu.data.enrollments == {}  # safe by default
    lu.reset_log()

    estimate = auto_enroll_preview(connection=connection)
    size = len(members(lu, connection))
    assert (estimate.courses, estimate.members) == (4, size) and size > 0
    assert estimate.message == f"4 courses × {size} members = {4 * size:,} enrollments"
    assert lu.writes() == []  # the dry run only reads

    admin = UserFactory()
    with pytest.raises(AutoEnrollNotConfirmed) as caught:
        auto_enroll_set(connection=connection, actor=admin, enabled=True, confirm_enrollments=1)
    assert str(estimate.enrollments) in caught.value.message
    connection.refresh_from_db()
    assert connection.auto_enroll is False

    auto_enroll_set(
        connection=connection,
        actor=admin,
        enabled=True,
        confirm_enrollments=estimate.enrollments,
    )
    connection.refresh_from_db()
    run = push(run_platform, connection)
    assert run.details["courses"]["attached"] == 4
    assert len(lu.data.enrollments) == estimate.enrollments
    bodies = [e["body"] for e in lu.request_log if e["path"].endswith("/group_courses")]
    assert [b["re_enroll_completed"] for b in bodies if b] == [False] * 4
    assert connection.audit.filter(action="auto_enroll_on").exists()


def test_a_later_joiner_is_enrolled_on_the_linked_courses(lu, make_connection, run_platform):
    connection = make_connection(
        lu, auto_enroll=True, re_enroll_completed=True, auto_enroll_consent=CONFIRMED
    )
    make_courses(connection, 3)
    push(run_platform, connection)
    before = len(lu.data.enrollments)
    assert before == 3 * len(members(lu, connection))
    joiner = next(u for u in lu.data.users if u["id"] not in members(lu, connection))
    lu.data.join(int(connection.target_group_id), joiner["id"])
    assert len(lu.data.enrollments) == before + 3
    assert all(gc["re_enroll_completed"] is True for gc in lu.data.group_courses.values())


def test_turning_it_off_unlinks_and_keeps_enrollments(lu, make_connection, run_platform):
    connection = make_connection(lu, auto_enroll=True, auto_enroll_consent=CONFIRMED)
    make_courses(connection, 2)
    push(run_platform, connection)
    enrolled = len(lu.data.enrollments)
    assert len(lu.data.group_courses) == 2 and enrolled > 0

    auto_enroll_set(connection=connection, actor=UserFactory(), enabled=False)
    connection.refresh_from_db()
    lu.reset_log()
    run = push(run_platform, connection)
    assert [w["method"] for w in lu.writes()] == ["DELETE", "DELETE"]
    assert run.removed == 2
    assert lu.data.group_courses == {} and len(lu.data.enrollments) == enrolled
    lu.reset_log()
    push(run_platform, connection)
    assert lu.writes() == []  # unlinked once, not linked again


def test_links_of_earlier_versions_stay_until_undone(lu, make_connection, run_platform):
    connection = make_connection(lu, auto_enroll=True, auto_enroll_consent=CONFIRMED)
    make_courses(connection, 2)
    push(run_platform, connection)
    # An upgraded connection: links exist, the new choice is off (the default).
    PlatformConnection.objects.filter(pk=connection.pk).update(auto_enroll=False)
    connection.refresh_from_db()
    lu.reset_log()
    push(run_platform, connection)
    assert lu.writes() == [] and len(lu.data.group_courses) == 2  # never undone silently

    assert auto_enroll_unlink_earlier(connection=connection, actor=UserFactory()) == 2
    push(run_platform, connection)
    assert lu.data.group_courses == {}


def test_the_sandbox_requires_re_enroll_completed(lu):
    client = LearnUponClient(lu.credentials())
    lu.data.courses[77] = {"id": 77, "name": "C", "published_status_id": "published"}
    link = {"GroupCourse": {"group_id": 5001, "course_id": 77}}
    with pytest.raises(PlatformRejected) as caught:
        client.call("POST", "group_courses", body=link)
    assert "re_enroll_completed" in caught.value.message
    assert lu.data.group_courses == {} and lu.data.enrollments == {}
    client.call("POST", "group_courses", body={**link, "re_enroll_completed": "false"})
    assert len(lu.data.enrollments) == len(lu.data.memberships[5001]) > 0


def test_the_sandbox_answers_404_with_a_message_for_invalid_parameters(lu):
    client = LearnUponClient(lu.credentials(), max_retries=0)
    with pytest.raises(PlatformNotFound) as caught:
        client.call("GET", "group_memberships", params={"group_id": "abc"})
    assert "Invalid parameters" in caught.value.message
    with pytest.raises(PlatformNotFound) as caught:
        client.call("GET", "users", params={"page": "x"})
    assert "Invalid parameters" in caught.value.message


def test_the_sandbox_budgets_run_out_then_recover(make_learnupon_sandbox):
    clock = Clock()
    lu = make_learnupon_sandbox(remaining_minute=3, remaining_week=5, clock=clock)
    client = LearnUponClient(lu.credentials(), min_remaining_minute=-1, min_remaining_week=-1)
    remaining = []
    for _ in range(3):
        client.call("GET", "groups")
        remaining.append((client.remaining_minute, client.remaining_week))
    assert remaining == [(2, 4), (1, 3), (0, 2)]
    refused = raw_get(lu, "groups")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "40"
    clock.now += 60  # next minute: the minute budget is back, the week's is not
    client.call("GET", "groups")
    client.call("GET", "groups")
    assert client.remaining_week == 0
    clock.now += 60
    assert raw_get(lu, "groups").status_code == 429
    clock.now += 7 * 24 * 3600  # the week renews
    client.call("GET", "groups")
    assert client.remaining_week == 4


def test_a_spent_week_stops_the_push_with_its_reason(
    make_learnupon_sandbox, make_connection, run_platform, settings
):
    settings.LEARNUPON_MIN_REMAINING_WEEK = 5
    clock = Clock()
    lu = make_learnupon_sandbox(remaining_week=20, clock=clock)
    connection = make_connection(lu)
    make_courses(connection, 10)  # 1 listing + 2 writes per course: more than the week holds

    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.FAILED
    assert "weekly API budget" in run.error_summary
    sent = len(lu.request_log)
    assert sent <= 16 and not any(e["status"] == 429 for e in lu.request_log)  # no loop
    connection.refresh_from_db()
    assert connection.status == PlatformConnection.Status.ACTIVE  # not the keys' fault

    lu.reset_log()
    again = run_platform(connection, kind="push")  # the same week: one request, then stop
    assert again.status == PlatformRun.Status.FAILED and len(lu.request_log) == 1

    clock.now += 7 * 24 * 3600
    lu.remaining_week = 1000
    final = push(run_platform, connection)
    assert len(lu.data.courses) == 10 and final.status == PlatformRun.Status.SUCCEEDED


class HeaderSpy(requests.Session):
    """A session (the client's `session` parameter) recording the headers of each request."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict] = []

    def request(self, method, url, **kwargs):
        self.seen.append(dict(kwargs["headers"]))
        return super().request(method, url, **kwargs)


def test_every_learnupon_request_says_json(lu):
    with HeaderSpy() as session:
        LearnUponClient(lu.credentials(), session=session).call("GET", "groups")
    assert session.seen[0]["Content-Type"] == "application/json"


def test_budget_spent_is_not_retried(lu):
    client = LearnUponClient(lu.credentials())
    client.remaining_week = 0
    with pytest.raises(PlatformBudgetSpent):
        client.call("GET", "groups")
    assert lu.request_log == []
