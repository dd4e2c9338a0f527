"""The learner's course page (/catalog/courses/<id>/: what the course is, their progress, START)
and the admin's course dashboard as it opens (description, learners, progress; the field
mapping behind a disclosure)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt, Course
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    GroupFactory,
    LearnerFactory,
    TagFactory,
    UserFactory,
    group_admin,
    group_learner,
)

pytestmark = pytest.mark.django_db

MINUTE = 60_000


def page_url(course) -> str:
    return reverse("catalog:course_page", args=[course.pk])


def start_url(course) -> str:
    return reverse("catalog:course_start", args=[course.pk])


class Tree(HTMLParser):
    """Each element with a `data-testid`, and the tags of its open ancestors."""

    VOID = {"img", "input", "br", "hr", "meta", "link", "source", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.found: dict[str, list[tuple[str, dict]]] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if testid := attrs.get("data-testid"):
            self.found.setdefault(testid, list(self.stack))
        if tag not in self.VOID:
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def ancestors(self, testid: str) -> list[tuple[str, dict]]:
        assert testid in self.found, f"no element with data-testid={testid!r}"
        return self.found[testid]


@pytest.fixture
def course(integration):
    course = CourseFactory(
        integration=integration,
        title="Docker Deep Dive",
        description="<p>Ship <strong>containers</strong> safely.</p>",
        duration_minutes=312,
        authors=["Jane Doe", "Wei Kim"],
        lang="fr",
        image="https://img.example.com/docker.jpg",
    )
    course.tags.add(TagFactory(name="IT & Software"), TagFactory(name="DevOps"))
    return course


# --------------------------------------------------------------------------- who sees it


def test_a_learner_sees_their_groups_course(learner_client, course):
    response = learner_client.get(page_url(course))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Docker Deep Dive" in html
    assert "<p>Ship <strong>containers</strong> safely.</p>" in html  # sanitized upstream HTML
    assert "5 h 12 min" in html
    assert "Jane Doe, Wei Kim" in html
    assert 'data-testid="course-lang">fr<' in html
    assert "IT &amp; Software" in html and "DevOps" in html
    assert "Not started" in html


def test_a_learner_of_a_public_child_group_sees_the_parent_groups_course(client, course):
    child = GroupFactory(parent=course.group, is_public=True)
    client.force_login(group_learner(child))
    assert client.get(page_url(course)).status_code == 200


def test_another_groups_course_is_404(learner_client, other_group):
    elsewhere = CourseFactory(integration__group=other_group, title="Someone else's")
    response = learner_client.get(page_url(elsewhere))
    assert response.status_code == 404
    assert b"Someone else" not in response.content


def test_the_admin_of_another_group_gets_404_too(client, course, other_group):
    client.force_login(group_admin(other_group))
    assert client.get(page_url(course)).status_code == 404


def test_an_archived_course_or_none_at_all_is_404(learner_client, integration):
    archived = CourseFactory(integration=integration, status=Course.Status.ARCHIVED)
    assert learner_client.get(page_url(archived)).status_code == 404
    assert learner_client.get(reverse("catalog:course_page", args=[999_999])).status_code == 404


def test_anonymous_users_are_sent_to_login(client, course):
    response = client.get(page_url(course))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_page_is_read_only(learner_client, course):
    assert learner_client.post(page_url(course)).status_code == 405
    assert not Attempt.objects.exists()


def test_the_title_is_escaped(learner_client, integration):
    course = CourseFactory(integration=integration, title="<script>alert(1)</script>")
    html = learner_client.get(page_url(course)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --------------------------------------------------------------------------- progress, START


def test_the_learners_progress_and_time_spent(learner_client, learner_user, course):
    me = learner_user.learner
    AttemptFactory(
        learner=me,
        course=course,
        is_open=True,
        progress=40,
        time_spent_ms=(205 * 60 + 49) * MINUTE,
        last_activity=timezone.now(),
    )
    AttemptFactory(course=course, progress=100, is_open=False)  # someone else's
    html = learner_client.get(page_url(course)).content.decode()
    assert "In progress · 40 %" in html
    assert 'data-testid="my-time-spent">205 h 49 min<' in html
    assert "Completed" not in html


def test_the_start_form_posts_to_course_start_with_a_csrf_token(learner_user, course):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(learner_user)
    html = browser.get(page_url(course)).content.decode()
    tree = Tree(html)
    form = dict(tree.ancestors("start-" + str(course.pk)))["form"]
    assert form["method"] == "post" and form["action"] == start_url(course)
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    form_html = html.split('data-testid="start-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrfmiddlewaretoken"' in form_html
    # Without the token the START is refused; with the page's token it lands on Udemy.
    assert browser.post(start_url(course)).status_code == 403
    response = browser.post(start_url(course), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response.url == course.launch_url
    assert Attempt.objects.filter(course=course, learner=learner_user.learner).count() == 1


def test_no_start_without_a_launch_url(learner_client, course):
    Course.objects.filter(pk=course.pk).update(launch_url="javascript:alert(1)")
    html = learner_client.get(page_url(course)).content.decode()
    assert 'data-testid="start-form"' not in html
    assert "javascript:" not in html


def test_no_start_for_an_account_without_a_learner_profile(client, course):
    client.force_login(UserFactory(is_superuser=True))
    html = client.get(page_url(course)).content.decode()
    assert 'data-testid="start-form"' not in html
    assert "no learner profile" in html


def test_catalog_cards_link_to_the_course_page(learner_client, course):
    html = learner_client.get(reverse("catalog:learner_catalog")).content.decode()
    assert f'href="{page_url(course)}"' in html


# --------------------------------------------------------------------------- admin dashboard


def dashboard_url(course) -> str:
    return reverse("catalog:course_dashboard", args=[course.group.slug, course.pk])


@pytest.fixture
def attended(course):
    AttemptFactory(
        course=course,
        learner=LearnerFactory(email="ann@example.com", first_name="Ann", last_name="Lee"),
        progress=100,
        is_open=False,
        completed_at=timezone.now(),
        time_spent_ms=(205 * 60 + 49) * MINUTE,
    )
    AttemptFactory(
        course=course,
        learner=LearnerFactory(email="nameless@example.com", first_name="", last_name=""),
        progress=20,
        time_spent_ms=59_000,
    )
    return course


def test_the_dashboard_opens_on_description_learners_and_progress(admin_client, attended):
    html = admin_client.get(dashboard_url(attended)).content.decode()
    order = [
        html.index('data-testid="course-summary"'),
        html.index('data-testid="course-description"'),
        html.index('data-testid="attempts"'),
        html.index('data-testid="field-mapping"'),
    ]
    assert order == sorted(order), "description, learners and progress come before the mapping"
    assert 'data-testid="summary-learners">2<' in html
    assert 'data-testid="summary-completions">1<' in html
    assert 'data-testid="summary-progress">60 %<' in html
    assert "5 h 12 min" in html  # the course's duration, read as people read it


def test_the_field_mapping_is_inside_a_details_disclosure(admin_client, attended):
    html = admin_client.get(dashboard_url(attended)).content.decode()
    tree = Tree(html)
    assert "details" in [tag for tag, _ in tree.ancestors("course-mapping")]
    assert "details" not in [tag for tag, _ in tree.ancestors("course-description")]
    assert "details" not in [tag for tag, _ in tree.ancestors("attempts")]
    details = html.split('data-testid="field-mapping"', 1)[1].split("</details>", 1)[0]
    assert "<summary" in details and "Field mapping" in details
    assert "<code>externalId</code> ← <code>id</code>" in details
    assert "open" not in html.split('data-testid="field-mapping"', 1)[0].rsplit("<details", 1)[1]


def test_learners_show_their_name_with_the_email_secondary(admin_client, attended):
    html = admin_client.get(dashboard_url(attended)).content.decode()
    cells = html.split('data-testid="attempt-learner"')[1:]
    cells = {cell.split(">", 1)[1].split("</td>", 1)[0] for cell in cells}
    assert (
        '<div class="fw-medium">Ann Lee</div>'
        '<div class="small text-body-secondary">ann@example.com</div>'
    ) in cells
    assert "nameless@example.com" in cells  # no name known: the e-mail alone


def test_time_spent_reads_in_hours_and_minutes(admin_client, attended):
    html = admin_client.get(dashboard_url(attended)).content.decode()
    assert 'data-testid="attempt-time-spent">205 h 49 min<' in html
    assert 'data-testid="attempt-time-spent">&lt; 1 min<' in html


def test_wide_tables_scroll_inside_their_card(admin_client, attended):
    tree = Tree(admin_client.get(dashboard_url(attended)).content.decode())
    for testid in ("attempts", "course-mapping"):
        classes = [attrs.get("class", "") for _, attrs in tree.ancestors(testid)]
        assert any("table-responsive" in c.split() for c in classes), testid


def test_the_group_dashboard_reads_time_spent_in_hours(admin_client, attended):
    url = reverse("catalog:group_dashboard", args=[attended.group.slug])
    html = admin_client.get(url).content.decode()
    assert 'data-testid="time-spent">205 h 49 min<' in html  # + 59 s: not yet a minute
