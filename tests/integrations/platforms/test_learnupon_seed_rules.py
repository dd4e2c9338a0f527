"""LearnUpon's own rules, as its API document states them: the course owner is "a portal
administrator, or instructor with course creation privileges" (LearnUpon API, "Create a course",
`owner_id`; "User object attributes", `user_type` and `tutor_can_create_courses`); names and
descriptions have character limits and "exceeding these limits cause your POST calls to fail";
`cataloged: true` lists a course in the catalog every user of the portal browses."""

from __future__ import annotations

import html

import pytest

from catalog.models import Course
from integrations.models import PlatformRun
from integrations.platforms.learnupon import mapping as lu
from integrations.platforms.learnupon.client import LearnUponClient
from tests.integrations.platforms.test_learnupon_push import make_courses

pytestmark = pytest.mark.django_db


def add_user(sandbox, user_id: int, user_type: str, **rights) -> None:
    sandbox.data.users.append(
        {
            "id": user_id,
            "email": f"{user_type}{user_id}@example.com",
            "first_name": "Pat",
            "last_name": "Owner",
            "user_type": user_type,
            "enabled": True,
            **rights,
        }
    )


# --------------------------------------------------------------------------- course owner


@pytest.mark.parametrize(
    ("user", "problem"),
    [
        ({"user_type": "admin"}, ""),
        ({"user_type": "instructor", "tutor_can_create_courses": True}, ""),
        ({"user_type": "instructor", "tutor_can_create_courses": "true"}, ""),
        ({"user_type": "instructor", "tutor_can_create_courses": False}, "create courses"),
        ({"user_type": "instructor"}, "create courses"),  # "Default is false"
        ({"user_type": "manager", "can_act_as_instructor": True}, "manager"),
        ({"user_type": "learner"}, "learner"),
    ],
)
def test_the_owner_rule_follows_the_user_type_fields(user, problem):
    found = lu.owner_problem({"id": 7, **user})
    assert (problem in found) if problem else found == ""


def test_test_connection_checks_what_the_owner_may_do(learnupon_sandbox):
    add_user(learnupon_sandbox, 2, "instructor", tutor_can_create_courses=True)
    add_user(learnupon_sandbox, 3, "instructor", tutor_can_create_courses=False)
    client = LearnUponClient(learnupon_sandbox.credentials())
    assert client.check_connection(owner_id="1").ok  # the admin
    assert client.check_connection(owner_id="2").ok
    learner = client.check_connection(owner_id="10001")
    assert (learner.ok, learner.verdict) == (False, "owner_not_allowed")
    assert "learner" in learner.message and "10001" in learner.message
    no_rights = client.check_connection(owner_id="3")
    assert not no_rights.ok and "tutor_can_create_courses" in no_rights.message


def test_the_sandbox_refuses_an_instructor_without_creation_rights(learnupon_sandbox):
    add_user(learnupon_sandbox, 3, "instructor", tutor_can_create_courses=False)
    client = LearnUponClient(learnupon_sandbox.credentials(), max_retries=0)
    from integrations.platforms.base import PlatformRejected

    with pytest.raises(PlatformRejected):
        client.create_course({"name": "x", "owner_id": 3})


# --------------------------------------------------------------------------- descriptions


def snapshot(description: str) -> lu.CourseSnapshot:
    return lu.CourseSnapshot(
        local_id="1",
        kind="course",
        external_id="42",
        title="Python",
        description=description,
        duration_minutes=None,
        tags=(),
        url="https://acme.udemy.com/course/python/",
    )


def test_a_short_description_is_sent_as_it_is():
    fields = lu.course_fields(snapshot("<p>Learn</p>"), owner_id="1", cataloged=True)
    assert fields["description"] == "<p>Learn</p>"


def test_a_long_description_is_cut_with_an_ellipsis_and_a_link_back():
    long = "<p>" + " ".join(f"word{i} &amp; more" for i in range(3000)) + "</p>"
    text = lu.course_fields(snapshot(long), owner_id="1", cataloged=True)["description"]
    assert len(text) <= lu.DESCRIPTION_MAX
    assert "…" in text and "word0 &amp; more" in text
    assert 'href="https://acme.udemy.com/course/python/"' in text
    assert text.count("<p>") == text.count("</p>")  # never a tag cut in half
    assert "&amp" not in html.unescape(text).replace("&", "")  # entities kept whole


def test_a_long_description_is_pushed_instead_of_failing(
    make_learnupon_sandbox, make_connection, run_platform
):
    lu_sandbox = make_learnupon_sandbox(users=5, description_max=lu.DESCRIPTION_MAX)
    connection = make_connection(lu_sandbox)
    courses = make_courses(connection, 3)
    Course.objects.filter(pk=courses[1].pk).update(
        description="<p>" + "Very long. " * 5000 + "</p>",
        launch_url="https://acme.udemy.com/course/very-long/",
    )
    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    assert len(lu_sandbox.data.courses) == 3
    sent = next(c for c in lu_sandbox.data.courses.values() if "Very long" in c["description_html"])
    assert "https://acme.udemy.com/course/very-long/" in sent["description_html"]


def test_the_sandbox_refuses_a_description_over_its_limit(make_learnupon_sandbox):
    sandbox = make_learnupon_sandbox(users=2, description_max=100)
    client = LearnUponClient(sandbox.credentials(), max_retries=0)
    from integrations.platforms.base import PlatformRejected

    with pytest.raises(PlatformRejected) as caught:
        client.create_course({"name": "x", "owner_id": 1, "description": "y" * 101})
    assert "description" in caught.value.message


# --------------------------------------------------------------------------- cataloged


def test_cataloged_is_what_the_admin_chose(learnupon_sandbox, make_connection, run_platform):
    connection = make_connection(learnupon_sandbox, learnupon_cataloged=False)
    make_courses(connection, 2)
    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.SUCCEEDED
    assert [c["cataloged"] for c in learnupon_sandbox.data.courses.values()] == [False, False]


def test_no_push_without_a_cataloged_choice(learnupon_sandbox, make_connection, run_platform):
    connection = make_connection(learnupon_sandbox, learnupon_cataloged=None)
    make_courses(connection, 1)
    run = run_platform(connection, kind="push")
    assert run.status == PlatformRun.Status.FAILED
    assert "portal catalog" in run.error_summary
    assert learnupon_sandbox.data.courses == {}


def test_the_form_states_what_cataloged_does_and_has_no_default(page_client_for, admin_a, group_a):
    from django.urls import reverse

    page = page_client_for(admin_a).get(reverse("platforms:connection", args=[group_a.slug]))
    text = page.content.decode()
    assert "every user of the portal" in text and "even when the target group is private" in text
    radios = [line for line in text.splitlines() if 'name="learnupon_cataloged"' in line]
    assert radios and not any("checked" in line for line in radios)
