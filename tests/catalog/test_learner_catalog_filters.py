"""The learner catalog's filter bar (tag, language, type, title, the learner's own progress), the
progress shown on each card, paging that keeps the filters, and a constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt, Course
from tests.factories import AttemptFactory, CourseFactory, GroupFactory, LearnerFactory, TagFactory

pytestmark = pytest.mark.django_db

CATALOG = reverse("catalog:learner_catalog")


def page_of(client, **params):
    response = client.get(CATALOG, params)
    assert response.status_code == 200
    return response


def titles(client, **params) -> set[str]:
    return {course.title for course in page_of(client, **params).context["page"].object_list}


@pytest.fixture
def catalog(integration, learner_user):
    """Three active items of the learner's group and one archived, each in another state for
    the learner: in progress, completed, not started."""
    development, office = TagFactory(name="Development"), TagFactory(name="Office")
    python = CourseFactory(integration=integration, title="Python Bootcamp", lang="en")
    python.tags.add(development)
    excel = CourseFactory(integration=integration, title="Excel pour tous", lang="fr")
    excel.tags.add(office)
    path = CourseFactory(
        integration=integration, title="Data Analyst Path", kind=Course.Kind.LEARNING_PATH
    )
    path.tags.add(development)
    retired = CourseFactory(
        integration=integration, title="Retired Flash", lang="de", status=Course.Status.ARCHIVED
    )
    retired.tags.add(TagFactory(name="Legacy"))
    me = learner_user.learner
    AttemptFactory(learner=me, course=python, is_open=True, progress=40)
    AttemptFactory(
        learner=me, course=excel, is_open=False, progress=100, completed_at=timezone.now()
    )
    AttemptFactory(learner=me, course=retired, is_open=True, progress=10)
    # Someone else's completion of the path says nothing about this learner.
    AttemptFactory(course=path, is_open=False, progress=100, completed_at=timezone.now())
    return {"python": python, "excel": excel, "path": path, "retired": retired}


ALL = {"Python Bootcamp", "Excel pour tous", "Data Analyst Path"}


# --------------------------------------------------------------------------- each filter


def test_archived_courses_are_never_listed(learner_client, catalog):
    assert titles(learner_client) == ALL
    assert titles(learner_client, tag="Legacy") == set()
    assert titles(learner_client, lang="de") == set()
    assert titles(learner_client, progress="in_progress") == {"Python Bootcamp"}
    assert "Retired Flash" not in page_of(learner_client).content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tag": "Development"}, {"Python Bootcamp", "Data Analyst Path"}),
        ({"tag": "Office"}, {"Excel pour tous"}),
        ({"lang": "fr"}, {"Excel pour tous"}),
        ({"lang": "en"}, {"Python Bootcamp", "Data Analyst Path"}),
        ({"kind": "learning_path"}, {"Data Analyst Path"}),
        ({"kind": "course"}, {"Python Bootcamp", "Excel pour tous"}),
        ({"q": "python"}, {"Python Bootcamp"}),
        ({"progress": "not_started"}, {"Data Analyst Path"}),
        ({"progress": "in_progress"}, {"Python Bootcamp"}),
        ({"progress": "completed"}, {"Excel pour tous"}),
        ({"tag": "Development", "kind": "course"}, {"Python Bootcamp"}),
        ({"tag": "Development", "progress": "not_started"}, {"Data Analyst Path"}),
        ({"lang": "fr", "progress": "in_progress"}, set()),
    ],
)
def test_each_filter(learner_client, catalog, params, expected):
    assert titles(learner_client, **params) == expected


@pytest.mark.parametrize(
    "params",
    [{"kind": "bogus"}, {"progress": "halfway"}, {"progress": ""}, {"tag": ""}, {"q": "\x00"}],
)
def test_a_value_that_does_not_validate_is_ignored(learner_client, catalog, params):
    assert titles(learner_client, **params) == ALL


def test_the_filter_bar_offers_the_tags_and_languages_of_what_the_learner_sees(
    learner_client, catalog, other_group
):
    CourseFactory(integration__group=other_group, lang="es").tags.add(TagFactory(name="Hidden"))
    context = page_of(learner_client).context
    assert context["options"] == {"tags": ["Development", "Office"], "langs": ["en", "fr"]}
    html = page_of(learner_client, tag="Office", progress="completed").content.decode()
    assert '<option value="Office" selected>' in html
    assert '<option value="completed" selected>' in html
    assert "Legacy" not in html and "Hidden" not in html


# --------------------------------------------------------------------------- my progress


def state_of(client, course) -> tuple[str, float | None]:
    page = page_of(client).context["page"]
    listed = next(c for c in page.object_list if c.pk == course.pk)
    return listed.my_state, listed.my_progress


def test_each_card_shows_the_learners_own_state_and_percent(learner_client, catalog):
    html = page_of(learner_client).content.decode()
    cards = {}
    for card in html.split('data-testid="course-card"')[1:]:
        title = re.search(r'data-testid="course-link">([^<]+)</a>', card).group(1)
        cards[title] = re.search(r'data-testid="my-progress" data-state="(\w+)"', card).group(1)
    assert cards == {
        "Data Analyst Path": "not_started",
        "Excel pour tous": "completed",
        "Python Bootcamp": "in_progress",
    }
    assert "In progress · 40 %" in html
    assert "Completed · 100 %" in html
    assert "Not started" in html
    assert '<progress class="catalog-progress' in html and 'value="40"' in html


def test_the_latest_attempt_counts(learner_client, learner_user, catalog):
    """A second attempt (a relaunch) after a completion: in progress again, at its own %."""
    excel = catalog["excel"]
    AttemptFactory(learner=learner_user.learner, course=excel, number=2, progress=15)
    assert state_of(learner_client, excel) == ("in_progress", 15)
    assert titles(learner_client, progress="completed") == set()
    assert "In progress · 15 %" in page_of(learner_client).content.decode()


def test_a_start_is_in_progress_until_udemy_reports_the_course_finished(
    learner_client, learner_user, catalog
):
    """START closes its attempt at 0 % (360Learning's bookkeeping); the learner reads it as
    launched (counted as completed by the rule, the same words as the admin), not done —
    until the statistics say it is."""
    path = catalog["path"]
    assert learner_client.post(reverse("catalog:course_start", args=[path.pk])).status_code == 302
    assert state_of(learner_client, path) == ("launched", 0)
    attempt = Attempt.objects.get(learner=learner_user.learner, course=path)
    Attempt.objects.filter(pk=attempt.pk).update(progress=60, fingerprint="synced")
    assert state_of(learner_client, path) == ("launched", 60)
    Attempt.objects.filter(pk=attempt.pk).update(progress=100)
    assert state_of(learner_client, path) == ("completed", 100)
    assert titles(learner_client, progress="completed") == {"Excel pour tous", "Data Analyst Path"}


def test_a_completion_udemy_dates_after_the_launch_is_a_completion(
    learner_client, learner_user, catalog
):
    path, now = catalog["path"], timezone.now()
    AttemptFactory(
        learner=learner_user.learner,
        course=path,
        source=Attempt.Source.LAUNCH,
        is_open=False,
        progress=95,
        launched_at=now - timezone.timedelta(days=2),
        completed_at=now,
    )
    assert state_of(learner_client, path) == ("completed", 95)


def test_a_completion_from_udemys_statistics_counts_whatever_its_percent(
    learner_client, learner_user, catalog
):
    """The statistics close an attempt when Udemy dates a completion, whatever the ratio."""
    path = catalog["path"]
    AttemptFactory(
        learner=learner_user.learner,
        course=path,
        source=Attempt.Source.PROVIDER,
        is_open=False,
        progress=90,
        completed_at=timezone.now(),
    )
    assert state_of(learner_client, path) == ("completed", 90)
    assert "Completed · 90 %" in page_of(learner_client).content.decode()


def test_other_learners_attempts_never_show(learner_client, catalog):
    someone = LearnerFactory()
    AttemptFactory(learner=someone, course=catalog["python"], number=2, progress=99)
    assert state_of(learner_client, catalog["python"]) == ("in_progress", 40)
    assert state_of(learner_client, catalog["path"]) == ("not_started", None)


# --------------------------------------------------------------------------- empty, paging


def test_an_empty_result_offers_to_clear_the_filters(learner_client, catalog):
    html = page_of(learner_client, tag="Office", kind="learning_path").content.decode()
    assert "No course matches these filters." in html
    assert f'href="{CATALOG}" data-testid="clear-filters">Clear filters</a>' in html
    html = page_of(learner_client, q="zz").content.decode()
    assert "No course matches “zz”." in html and "Clear filters" in html


def test_no_clear_filters_link_without_filters(learner_client, integration):
    html = page_of(learner_client).content.decode()
    assert "No course yet." in html
    assert "Clear filters" not in html


def test_filters_survive_paging(learner_client, learner_user, integration):
    tag = TagFactory(name="Development")
    for n in range(30):
        course = CourseFactory(integration=integration, title=f"Course {n:02d}")
        course.tags.add(tag)
        AttemptFactory(learner=learner_user.learner, course=course, progress=n)
    CourseFactory(integration=integration, title="Untagged")
    params = {"tag": "Development", "progress": "in_progress"}
    first = page_of(learner_client, **params)
    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"].object_list) == 24
    html = first.content.decode()
    next_link = re.search(r'href="\?([^"]*page=2)"', html).group(1).replace("&amp;", "&")
    assert "tag=Development" in next_link and "progress=in_progress" in next_link
    second = learner_client.get(f"{CATALOG}?{next_link}")
    assert {c.title for c in second.context["page"].object_list} == {
        f"Course {n:02d}" for n in range(24, 30)
    }


def test_cards_link_to_the_course_page(learner_client, catalog):
    html = page_of(learner_client).content.decode()
    url = reverse("catalog:course_page", args=[catalog["python"].pk])
    assert f'href="{url}"' in html


# --------------------------------------------------------------------------- queries


def count_queries(client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CATALOG, params)
    assert response.status_code == 200
    return len(queries)


def add_courses(integration, learner, n: int) -> None:
    tags = [TagFactory(name="Development"), TagFactory(name="Business")]
    for i in range(n):
        course = CourseFactory(integration=integration, authors=["Jane Doe"])
        course.tags.add(*tags)
        AttemptFactory(learner=learner, course=course, progress=i, number=1)
        if i % 2:
            AttemptFactory(learner=learner, course=course, progress=i, number=2, is_open=False)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"tag": "Development", "lang": "en", "kind": "course", "q": "course"},
        {"progress": "in_progress", "page": "2"},
        {"progress": "not_started"},
    ],
    ids=["unfiltered", "filtered", "my-progress-page-2", "not-started"],
)
def test_the_catalog_costs_the_same_queries_for_5_courses_as_for_60(
    learner_client, learner_user, integration, params
):
    public_child = GroupFactory(parent=integration.group, is_public=True)
    learner_user.learner.memberships.create(group=public_child)
    add_courses(integration, learner_user.learner, 5)
    few = count_queries(learner_client, params)
    add_courses(integration, learner_user.learner, 55)
    many = count_queries(learner_client, params)
    assert few == many, f"{few} queries with 5 courses, {many} with 60"


def test_a_page_of_cards_is_a_handful_of_queries(
    learner_client, learner_user, integration, django_assert_max_num_queries
):
    add_courses(integration, learner_user.learner, 60)  # 30 in progress, 30 completed
    # session, user, visible groups (3), count, filter options (2), navigation, page, tags
    with django_assert_max_num_queries(11):
        response = learner_client.get(CATALOG, {"progress": "in_progress", "tag": "Business"})
    assert len(response.context["page"].object_list) == 24
