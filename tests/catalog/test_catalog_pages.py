"""The group's catalog, the course dashboard (mapping, attempts, CSV) and the group dashboard."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course
from tests.factories import AttemptFactory, CourseFactory, LearnerFactory, TagFactory

pytestmark = pytest.mark.django_db


def catalog_url(group, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    base = reverse("catalog:group_catalog", args=[group.slug])
    return base + (f"?{query}" if query else "")


def listed(client, group, **params) -> set[str]:
    page = client.get(catalog_url(group, **params)).context["page"]
    return {course.title for course in page.object_list}


@pytest.fixture
def catalog(integration):
    python, excel = TagFactory(name="Development"), TagFactory(name="Office Productivity")
    a = CourseFactory(
        integration=integration, title="Python Bootcamp", lang="en", duration_minutes=95
    )
    a.tags.add(python)
    b = CourseFactory(integration=integration, title="Excel pour tous", lang="fr")
    b.tags.add(excel)
    CourseFactory(
        integration=integration,
        title="[Learning Path] Data Analyst",
        kind=Course.Kind.LEARNING_PATH,
    )
    CourseFactory(integration=integration, title="Old Flash Course", status=Course.Status.ARCHIVED)
    return integration


# --------------------------------------------------------------------------- catalog


def test_catalog_cards_show_image_duration_authors_and_tags(admin_client, group, integration):
    course = CourseFactory(
        integration=integration,
        title="Docker Deep Dive",
        image="https://img.example.com/docker.jpg",
        duration_minutes=125,
        authors=["Jane Doe", "Wei Kim"],
    )
    course.tags.add(TagFactory(name="IT & Software"))
    html = admin_client.get(catalog_url(group)).content.decode()
    assert "Docker Deep Dive" in html
    assert 'src="https://img.example.com/docker.jpg"' in html
    assert "2 h 05 min" in html and "Jane Doe, Wei Kim" in html
    assert "IT &amp; Software" in html
    assert reverse("catalog:course_dashboard", args=[group.slug, course.pk]) in html


def test_catalog_search_and_filters(admin_client, group, catalog):
    everything = {"Python Bootcamp", "Excel pour tous", "[Learning Path] Data Analyst"}
    assert listed(admin_client, group) == everything  # archived courses are hidden by default
    assert listed(admin_client, group, status="all") == everything | {"Old Flash Course"}
    assert listed(admin_client, group, q="python") == {"Python Bootcamp"}
    assert listed(admin_client, group, tag="Office Productivity") == {"Excel pour tous"}
    assert listed(admin_client, group, lang="fr") == {"Excel pour tous"}
    assert listed(admin_client, group, kind="learning_path") == {"[Learning Path] Data Analyst"}
    assert listed(admin_client, group, status="archived") == {"Old Flash Course"}
    assert "Old Flash Course" not in listed(admin_client, group, status="active")
    assert listed(admin_client, group, kind="bogus") == everything
    assert listed(admin_client, group, status="bogus") == everything


def test_catalog_hides_archived_courses_with_a_way_to_show_them(admin_client, group, catalog):
    html = admin_client.get(catalog_url(group, lang="en", page=1)).content.decode()
    assert "Old Flash Course" not in html and "Archived courses are hidden." in html
    link = html.split('data-testid="show-archived"', 1)[0].rsplit('href="', 1)[1].split('"')[0]
    link = link.replace("&amp;", "&")
    assert link == "?lang=en&status=all"  # the other filters stay, back on the first page
    assert "Old Flash Course" in admin_client.get(catalog_url(group) + link).content.decode()
    html = admin_client.get(catalog_url(group, status="archived")).content.decode()
    assert "Old Flash Course" in html and "Archived courses are hidden." not in html


def test_an_empty_catalog_result_offers_to_clear_the_filters(admin_client, group, catalog):
    html = admin_client.get(catalog_url(group, q="zz", tag="Development")).content.decode()
    assert "No course matches these filters." in html
    bare = reverse("catalog:group_catalog", args=[group.slug])
    assert f'href="{bare}" data-testid="clear-filters">Clear filters</a>' in html
    html = admin_client.get(catalog_url(group)).content.decode()
    assert "Clear filters" not in html  # nothing to clear


def test_catalog_filter_bar_offers_the_tags_and_languages_in_use(admin_client, group, catalog):
    options = admin_client.get(catalog_url(group)).context["options"]
    assert options == {"tags": ["Development", "Office Productivity"], "langs": ["en", "fr"]}


def test_catalog_shows_only_the_groups_courses(admin_client, group, catalog, other_group):
    CourseFactory(integration__group=other_group, title="Someone else's course")
    assert "Someone else's course" not in listed(admin_client, group)


def test_catalog_is_paginated(admin_client, group, integration):
    CourseFactory.create_batch(30, integration=integration)
    assert len(admin_client.get(catalog_url(group)).context["page"].object_list) == 24
    assert len(admin_client.get(catalog_url(group, page=2)).context["page"].object_list) == 6


# --------------------------------------------------------------------------- course dashboard


def dashboard_url(group, course, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    base = reverse("catalog:course_dashboard", args=[group.slug, course.pk])
    return base + (f"?{query}" if query else "")


def test_dashboard_shows_each_field_with_its_source(admin_client, group, integration):
    course = CourseFactory(
        integration=integration, duration_minutes=95, authors=["Jane Doe"], lang="fr"
    )
    course.tags.add(TagFactory(name="Development"))
    html = admin_client.get(dashboard_url(group, course)).content.decode()
    for target, source in [
        ("title", "title"),
        ("courseDuration", "estimated_content_length"),
        ("authors", "instructors"),
        ("lang", "locale.locale"),
        ("tagNames", "categories"),
        ("externalId", "id"),
        ("videoUrl", "promo_video_url"),
    ]:
        assert f"<code>{target}</code> ← <code>{source}</code>" in html
    assert "95 min" in html and "Jane Doe" in html and "Development" in html


def test_dashboard_of_a_learning_path_shows_its_own_sources(admin_client, group, integration):
    path = CourseFactory(integration=integration, kind=Course.Kind.LEARNING_PATH, external_id="5")
    html = admin_client.get(dashboard_url(group, path)).content.decode()
    assert "<code>authors</code> ← <code>editors.display_name</code>" in html
    assert "<code>modifiedAt</code> ← <code>last_modified</code>" in html
    assert "<code>image</code> ← <code>thumbnail</code>" in html
    # externalId is unique per integration: a learning path's is in its own namespace.
    mapped = {
        row.target: row.value
        for row in admin_client.get(dashboard_url(group, path)).context["mapped"]
    }
    assert mapped["externalId"] == "path-5"


def test_dashboard_renders_the_stored_description_as_html(admin_client, group, integration):
    course = CourseFactory(
        integration=integration, description="<p>Learn <strong>fast</strong></p>"
    )
    html = admin_client.get(dashboard_url(group, course)).content.decode()
    assert "<p>Learn <strong>fast</strong></p>" in html


def test_other_fields_are_escaped(admin_client, group, integration):
    course = CourseFactory(integration=integration, title="<script>alert(1)</script>")
    html = admin_client.get(dashboard_url(group, course)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.fixture
def attempts(integration):
    course = CourseFactory(integration=integration, title="Python Bootcamp")
    day = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    AttemptFactory(
        course=course,
        learner=LearnerFactory(email="bob@example.com"),
        progress=100,
        first_activity=day,
        last_activity=day + timedelta(days=3),
        completed_at=day + timedelta(days=3),
        time_spent_ms=125 * 60_000,
        is_open=False,
    )
    AttemptFactory(
        course=course,
        learner=LearnerFactory(email="ann@example.com"),
        progress=42.5,
        first_activity=day + timedelta(days=1),
        last_activity=day + timedelta(days=2),
        time_spent_ms=7 * 60_000,
        is_open=True,
        number=2,
    )
    return course


def emails_in_order(client, group, course, sort: str) -> list[str]:
    rows = client.get(dashboard_url(group, course, sort=sort)).context["rows"]
    return [row.attempt.learner.email for row in rows]


def test_learners_table_shows_attempts_with_human_time(admin_client, group, attempts):
    html = admin_client.get(dashboard_url(group, attempts)).content.decode()
    for text in (
        "bob@example.com",
        "100 %",
        "2 h 05 min",
        "Completed on Udemy",
        "ann@example.com",
        "42.5 %",
        "7 min",
        "opened",
        "#2",
        "Progress",
        "First activity",
        "Last activity",
        "Completed at",
        "Time spent",
    ):
        assert text in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("progress", ["ann@example.com", "bob@example.com"]),
        ("-progress", ["bob@example.com", "ann@example.com"]),
        ("email", ["ann@example.com", "bob@example.com"]),
        ("-time_spent", ["bob@example.com", "ann@example.com"]),
        ("first_activity", ["bob@example.com", "ann@example.com"]),
        ("-completed_at", ["bob@example.com", "ann@example.com"]),  # nulls last
        ("state", ["bob@example.com", "ann@example.com"]),  # closed first
        ("'; DROP TABLE x", ["bob@example.com", "ann@example.com"]),  # default: -last_activity
    ],
)
def test_learners_table_is_sortable(admin_client, group, attempts, sort, expected):
    assert emails_in_order(admin_client, group, attempts, sort) == expected


def test_csv_export(admin_client, group, attempts):
    response = admin_client.get(dashboard_url(group, attempts, format="csv", sort="email"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert ".csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "learner_email",
        "progress",
        "first_activity",
        "last_activity",
        "completed_at",
        "time_spent",
        "time_spent_ms",
        "attempt",
        "state",
        "completion_source",
    ]
    assert rows[1][0] == "ann@example.com"
    assert rows[1][1:3] == ["42.5", "2025-05-02T11:00:00+02:00"]
    assert rows[1][4] == ""
    assert rows[1][5:] == ["7 min", "420000", "2", "opened", ""]
    assert rows[2][0] == "bob@example.com"
    assert rows[2][5:] == ["2 h 05 min", "7500000", "1", "closed", "udemy"]


def test_csv_cells_cannot_become_spreadsheet_formulas(admin_client, group, integration):
    course = CourseFactory(integration=integration)
    AttemptFactory(course=course, learner=LearnerFactory(email="=cmd|' /C calc'!A0@example.com"))
    response = admin_client.get(dashboard_url(group, course, format="csv"))
    body = b"".join(response.streaming_content).decode()
    assert "'=cmd" in body


def test_dashboard_of_another_groups_course_is_404(admin_client, group, other_group):
    course = CourseFactory(integration__group=other_group)
    assert admin_client.get(dashboard_url(group, course)).status_code == 404


# --------------------------------------------------------------------------- group dashboard


def test_group_dashboard_charts_completions_and_active_learners(admin_client, group, integration):
    course = CourseFactory(integration=integration)
    now = timezone.now()
    for days_ago in (1, 1, 5):
        AttemptFactory(
            course=course,
            completed_at=now - timedelta(days=days_ago),
            last_activity=now - timedelta(days=days_ago),
            is_open=False,
            progress=100,
        )
    AttemptFactory(course=course, completed_at=now - timedelta(days=200))  # out of range
    response = admin_client.get(reverse("catalog:group_dashboard", args=[group.slug]))
    html = response.content.decode()
    assert response.context["total_completions"] == 3
    assert response.context["peak_active"] == 2
    assert "<svg" in html and "Completions and active learners per day" in html


def test_group_dashboard_without_activity(admin_client, group):
    html = admin_client.get(reverse("catalog:group_dashboard", args=[group.slug])).content
    assert b"No learner activity in the last 90 days." in html
