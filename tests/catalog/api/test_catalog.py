"""GET /api/v1/groups/{slug}/courses/ and /stats/ (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from catalog.models import Course, Tag
from tests.factories import AttemptFactory, CourseFactory, LearnerFactory

pytestmark = pytest.mark.django_db

COURSES = "/api/v1/groups/acme-academy/courses/"
STATS = "/api/v1/groups/acme-academy/stats/"
MOMENT = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # the night Paris moves to summer time


@pytest.fixture
def catalog(integration_a):
    python, data = Tag.objects.create(name="Python"), Tag.objects.create(name="Data")
    course = CourseFactory(
        integration=integration_a,
        external_id="101",
        title="Python for data",
        description="<p>Learn</p>",
        image="https://img.example.com/101.jpg",
        duration_minutes=90,
        authors=["Ada Lovelace"],
        lang="fr",
        video_url="https://video.example.com/101.mp4",
        modified_at=MOMENT,
    )
    course.tags.set([python, data])
    path = CourseFactory(
        integration=integration_a,
        external_id="101",  # a learning path may share a course's id upstream
        kind=Course.Kind.LEARNING_PATH,
        title="[Learning Path] Data",
    )
    path.tags.set([data])
    archived = CourseFactory(
        integration=integration_a, title="Old course", status=Course.Status.ARCHIVED
    )
    return course, path, archived


def test_course_fields_use_the_platform_names(a_api, catalog):
    response = a_api.get(COURSES)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    first = next(c for c in body["results"] if c["type"] == "course" and c["externalId"] == "101")
    assert first == {
        "externalId": "101",
        "type": "course",
        "title": "Python for data",
        "name": "Python for data",
        "description": "<p>Learn</p>",
        "image": "https://img.example.com/101.jpg",
        "courseDuration": 90,
        "authors": ["Ada Lovelace"],
        "lang": "fr",
        "tagNames": ["Data", "Python"],
        "videoUrl": "https://video.example.com/101.mp4",
        "modifiedAt": "2025-03-30T01:30:00Z",
        "launchUrl": "https://demo.udemy.com/course/101/",
        "status": "active",
    }


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("type=learning_path", ["[Learning Path] Data"]),
        ("type=course&status=active", ["Python for data"]),
        ("status=archived", ["Old course"]),
        ("tag=data", ["[Learning Path] Data", "Python for data"]),
        ("tag=python&q=PYTHON", ["Python for data"]),
        ("q=nothing", []),
        ("q=", ["Old course", "Python for data", "[Learning Path] Data"]),
    ],
)
def test_course_filters(a_api, catalog, query, titles):
    results = a_api.get(f"{COURSES}?{query}").json()["results"]
    assert sorted(c["title"] for c in results) == sorted(titles)


@pytest.mark.parametrize(
    ("query", "field"),
    [("type=video", "type"), ("status=deleted", "status"), ("tag=", "tag"), ("q=a%00b", "q")],
)
def test_course_bad_filters_are_400(a_api, catalog, query, field):
    response = a_api.get(f"{COURSES}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_courses_queries_are_constant_per_page(
    su_api, integration_a, django_assert_max_num_queries
):
    tag = Tag.objects.create(name="T")
    for _ in range(40):
        CourseFactory(integration=integration_a).tags.add(tag)
    # token, group, count, courses, tags: whatever the page size
    with django_assert_max_num_queries(5):
        assert su_api.get(COURSES).json()["count"] == 40


@pytest.fixture
def attempts(catalog):
    course = catalog[0]
    learner = LearnerFactory(email="Ada@Example.com")
    first = AttemptFactory(
        learner=learner,
        course=course,
        number=1,
        first_activity=MOMENT,
        last_activity=MOMENT,
        completed_at=MOMENT,
        progress=100.0,
        time_spent_ms=45 * 60 * 1000,
        is_open=False,
    )
    second = AttemptFactory(
        learner=learner, course=course, number=2, progress=10.0, first_activity=MOMENT
    )
    other = AttemptFactory(learner=LearnerFactory(email="=cmd@example.com"), course=course)
    return first, second, other


def test_stats_rows(a_api, attempts):
    response = a_api.get(STATS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    row = next(r for r in body["results"] if r["learnerMail"] == "Ada@Example.com")
    assert row == {
        "externalCourseId": "101",
        "learnerMail": "Ada@Example.com",
        "firstActivity": "2025-03-30T01:30:00Z",
        "lastActivity": "2025-03-30T01:30:00Z",
        "completedAt": "2025-03-30T01:30:00Z",
        "progress": 100.0,
        "timeSpentInMilliseconds": 2700000,
        "attempt": 1,
        "isOpen": False,
        "completionSource": "udemy",
    }


def test_stats_filters(a_api, attempts):
    rows = a_api.get(f"{STATS}?learnerMail=ada@example.COM").json()["results"]
    assert [r["attempt"] for r in rows] == [1, 2]
    assert a_api.get(f"{STATS}?externalCourseId=404").json()["count"] == 0
    assert a_api.get(f"{STATS}?externalCourseId=101").json()["count"] == 3


def test_stats_csv_has_the_same_columns_and_every_row(a_api, attempts):
    response = a_api.get(f"{STATS}?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "acme-academy-statistics.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(a_api.get(STATS).json()["results"][0])
    ada = next(r for r in rows if r["learnerMail"] == "Ada@Example.com" and r["attempt"] == "1")
    assert ada["completedAt"] == "2025-03-30T01:30:00Z"
    assert ada["isOpen"] == "false"
    # A value that a spreadsheet would run as a formula is defused.
    assert any(r["learnerMail"] == "'=cmd@example.com" for r in rows)


def test_stats_csv_by_accept_header_and_errors_stay_json(a_api, attempts):
    response = a_api.get(STATS, HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    bad = a_api.get(f"{STATS}?format=csv&learnerMail={'x' * 300}")
    assert bad.status_code == 400
    assert bad["Content-Type"] == "application/json"
    assert "learnerMail" in bad.json()
    missing = a_api.get("/api/v1/groups/beta-corp/stats/?format=csv")
    assert missing.status_code == 404
    assert missing.json()["detail"]
    assert a_api.get(f"{STATS}?format=xml").status_code == 404
    empty = a_api.get(f"{STATS}?format=")  # DRF alone would answer it as JSON
    assert empty.status_code == 400 and "format" in empty.json()


def test_stats_queries_are_constant_per_page(su_api, integration_a, django_assert_max_num_queries):
    course = CourseFactory(integration=integration_a)
    for _ in range(30):
        AttemptFactory(course=course)
    with django_assert_max_num_queries(4):
        assert su_api.get(STATS).json()["count"] == 30


def test_courses_and_stats_of_another_group_are_404(b_api, learner_api, attempts):
    for client in (b_api, learner_api):
        assert client.get(COURSES).status_code == 404
        assert client.get(STATS).status_code == 404


def test_learning_paths_have_their_own_external_id_namespace(a_api, catalog):
    """360Learning's connectors: "externalId must be unique per integration and never change".
    A course and a learning path both numbered 101 by Udemy show as "101" and "path-101"; the
    stored ids stay Udemy's."""
    course, path, _archived = catalog
    results = a_api.get(COURSES).json()["results"]
    ids = [c["externalId"] for c in results]
    assert len(ids) == len(set(ids))
    by_type = {c["type"]: c["externalId"] for c in results if c["title"] != "Old course"}
    assert by_type == {"course": "101", "learning_path": "path-101"}
    path.refresh_from_db()
    assert (course.external_id, path.external_id) == ("101", "101")


def test_statistics_of_a_learning_path_name_it_in_its_namespace(a_api, catalog):
    """A launch of a learning path (START) is an attempt: the API, its filter and the CSV
    export name the path "path-101", apart from course 101."""
    course, path, _archived = catalog
    AttemptFactory(course=course, learner=LearnerFactory(email="c@example.com"))
    AttemptFactory(course=path, learner=LearnerFactory(email="p@example.com"))
    rows = a_api.get(STATS).json()["results"]
    assert {(r["learnerMail"], r["externalCourseId"]) for r in rows} == {
        ("c@example.com", "101"),
        ("p@example.com", "path-101"),
    }
    only_path = a_api.get(f"{STATS}?externalCourseId=path-101").json()["results"]
    assert [r["learnerMail"] for r in only_path] == ["p@example.com"]
    only_course = a_api.get(f"{STATS}?externalCourseId=101").json()["results"]
    assert [r["learnerMail"] for r in only_course] == ["c@example.com"]
    text = b"".join(a_api.get(f"{STATS}?format=csv").streaming_content).decode()
    exported = {r["learnerMail"]: r["externalCourseId"] for r in csv.DictReader(io.StringIO(text))}
    assert exported == {"c@example.com": "101", "p@example.com": "path-101"}
