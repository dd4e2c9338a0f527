"""Coursebase courses and reports in the console and the API: run buttons, the course list page,
the course dashboard's panel beside Udemy's figures, the daily schedule; group isolation."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from integrations.models import PlatformCourse, PlatformRun
from integrations.services.platforms import platform_import_scheduled
from tests.factories import AttemptFactory, CourseFactory, IntegrationFactory, LearnerFactory

pytestmark = [pytest.mark.django_db]
TITLES = ["Python for Data Analysis", "Leadership Essentials"]


@pytest.fixture(autouse=True)
def _fast_polls(settings) -> None:
    settings.REPORT_POLL_INTERVAL = 0.01


@pytest.fixture
def setup(make_coursebase_sandbox, make_connection, group_a, run_platform):
    sandbox = make_coursebase_sandbox(course_titles=TITLES, users=6)
    connection = make_connection(sandbox, group=group_a)
    integration = IntegrationFactory(group=group_a)
    course = CourseFactory(group=group_a, integration=integration, title=TITLES[0])
    user_id, login = sandbox.data.users[0]["user_id"], sandbox.data.users[0]["login_id"]
    remote_id = sandbox.reports.data.courses[0]["course_id"]
    sandbox.reports.data.set_progress(user_id, remote_id, 35)
    learner = LearnerFactory(email=login.lower())
    AttemptFactory(learner=learner, course=course, progress=80)
    assert run_platform(connection, "courses").status == "succeeded"
    assert run_platform(connection, "reports").status == "succeeded"
    return connection, course, learner


def page(name: str, group, **kwargs) -> str:
    return reverse(f"platforms:{name}", kwargs={"slug": group.slug, **kwargs})


def test_the_connection_page_offers_course_and_report_runs(
    page_client_for, admin_a, group_a, setup, record_platform_enqueue,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    client = page_client_for(admin_a)
    body = client.get(page("connection", group_a)).content.decode()
    assert 'data-testid="import-courses"' in body and 'data-testid="export-reports"' in body
    assert "1 matched" in body and 'data-testid="auto-enrollment"' not in body
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page("request", group_a, kind="reports"), follow=True)
    assert b"The report export is queued." in response.content
    run = PlatformRun.objects.filter(kind="reports").latest("pk")
    assert record_platform_enqueue == [run.pk]


def test_the_course_list_page_searches_filters_and_links_the_match(
    page_client_for, admin_a, group_a, setup
):
    _connection, course, _ = setup
    client = page_client_for(admin_a)
    body = client.get(page("courses", group_a)).content.decode()
    assert TITLES[1] in body and course.title in body
    assert (
        reverse("catalog:course_dashboard", kwargs={"slug": group_a.slug, "course_id": course.pk})
        in body
    )
    only = client.get(page("courses", group_a), {"match": "none"}).content.decode()
    assert TITLES[1] in only and f">{TITLES[0]}<" not in only
    empty = client.get(page("courses", group_a), {"q": "zzz-nothing"}).content.decode()
    assert "No course matches." in empty and "Clear the filters" in empty


def test_the_course_dashboard_shows_coursebase_beside_udemy(
    page_client_for, admin_a, group_a, setup
):
    connection, course, _learner = setup
    row = PlatformCourse.objects.get(connection=connection, course=course)
    url = reverse("catalog:course_dashboard", kwargs={"slug": group_a.slug, "course_id": course.pk})
    body = page_client_for(admin_a).get(url).content.decode()
    assert 'data-testid="platform-course-panel"' in body
    assert f'data-testid="platform-learners">{row.learners}<' in body
    assert "Coursebase progress" in body
    assert "80 %" in body and "35 %" in body  # Udemy's progress, then Coursebase's


def test_another_groups_admin_gets_404(page_client_for, admin_b, group_a, setup, api_for):
    assert page_client_for(admin_b).get(page("courses", group_a)).status_code == 404
    api = api_for(admin_b)
    assert api.get(f"/api/v1/groups/{group_a.slug}/platform/courses/").status_code == 404
    assert api.post(f"/api/v1/groups/{group_a.slug}/platform/reports/export/").status_code == 404


def test_the_api_lists_courses_and_queues_runs(
    api_for, admin_a, group_a, setup, record_platform_enqueue
):
    _connection, course, _ = setup
    api = api_for(admin_a)
    listed = api.get(f"/api/v1/groups/{group_a.slug}/platform/courses/", {"match": "matched"})
    assert listed.status_code == 200
    (item,) = listed.json()["results"]
    assert item["course"] == {
        "id": course.pk,
        "externalId": course.external_id,
        "title": course.title,
    }
    assert item["learners"] is not None
    bad = api.get(f"/api/v1/groups/{group_a.slug}/platform/courses/", {"match": "maybe"})
    assert bad.status_code == 400 and "match" in bad.json()
    queued = api.post(f"/api/v1/groups/{group_a.slug}/platform/courses/import/")
    assert queued.status_code == 202 and queued.json()["operation"] == "courses"


def test_learnupon_has_no_course_list_or_reports(
    api_for, admin_a, group_a, learnupon_sandbox, make_connection
):
    make_connection(learnupon_sandbox, group=group_a)
    response = api_for(admin_a).post(f"/api/v1/groups/{group_a.slug}/platform/reports/export/")
    assert response.status_code == 400 and "no report export" in response.json()["detail"]


def test_the_daily_schedule_adds_course_list_and_reports_for_coursebase(
    coursebase_sandbox, learnupon_sandbox, make_connection, record_platform_enqueue,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    coursebase = make_connection(coursebase_sandbox)
    learnupon = make_connection(learnupon_sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        runs = platform_import_scheduled(today=date(2026, 12, 2))
        again = platform_import_scheduled(today=date(2026, 12, 2))
    kinds = sorted((r.connection_id, r.kind) for r in runs)
    assert kinds == sorted([(coursebase.pk, "directory"), (coursebase.pk, "courses"),
                            (coursebase.pk, "reports"), (learnupon.pk, "directory")])  # fmt: skip
    assert again == []


def test_a_content_sync_matches_the_course_list_again(setup, group_a):
    """A course synced after the list was read is matched without a new request."""
    from integrations.core.events import run_completed
    from integrations.models import SyncRun

    connection, course, _ = setup
    second = CourseFactory(group=group_a, integration=course.integration, title=TITLES[1])
    run = SyncRun.objects.create(integration=course.integration, kind="content", trigger="manual")
    run_completed.send(sender=SyncRun, run=run)
    row = PlatformCourse.objects.get(connection=connection, title=TITLES[1])
    assert (row.match, row.course) == ("matched", second)
