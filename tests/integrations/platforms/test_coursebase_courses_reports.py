"""Coursebase courses (org.courses.list) and report exports (report.export, .status, the zip),
end to end on the loopback sandbox, which enforces what the Coursebase API documents."""

from __future__ import annotations

import io
import zipfile

import pytest

from integrations.models import PlatformCourse, PlatformLearnerProgress, PlatformRun
from integrations.platforms.coursebase.client import CoursebaseClient
from integrations.sandboxes.coursebase.reports import ReportsData
from tests.factories import CourseFactory, IntegrationFactory

pytestmark = pytest.mark.django_db
TITLES = ["Python for Data Analysis", "Leadership Essentials", "Agile Project Management"]


@pytest.fixture(autouse=True)
def _fast_polls(settings) -> None:
    settings.REPORT_POLL_INTERVAL = 0.01
    settings.REPORT_EXPORT_MAX_WAIT = 5.0


@pytest.fixture
def connection(coursebase_sandbox, make_connection):
    return make_connection(coursebase_sandbox)


def synced(group, *titles: str) -> list:
    integration = IntegrationFactory(group=group)
    return [CourseFactory(group=group, integration=integration, title=t) for t in titles]


# --------------------------------------------------------------------------- course list


def test_course_list_is_imported_and_matched_by_unambiguous_title(
    make_coursebase_sandbox, make_connection, run_platform
):
    sandbox = make_coursebase_sandbox(
        course_titles=[*TITLES, "leadership   ESSENTIALS", "Only in Coursebase"]
    )
    connection = make_connection(sandbox)
    python, *_ = synced(connection.group, *TITLES)
    CourseFactory(
        group=connection.group, integration=python.integration, title="Agile Project Management"
    )

    run = run_platform(connection, "courses")

    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    rows = {r.title: r for r in PlatformCourse.objects.filter(connection=connection)}
    assert len(rows) == 5 and run.created == 5
    assert (rows["Python for Data Analysis"].match, rows["Python for Data Analysis"].course) == (
        "matched",
        python,
    )
    # two Coursebase courses share a title (case and spacing aside): neither is paired
    assert rows["Leadership Essentials"].match == "ambiguous"
    assert rows["leadership ESSENTIALS"].course is None
    # two synced courses share a title: ambiguous too
    assert rows["Agile Project Management"].match == "ambiguous"
    assert rows["Only in Coursebase"].match == "none"
    assert run.details["courses"] == {"absent": 0, "matched": 1, "ambiguous": 3, "none": 1}


def test_course_list_reimport_writes_nothing_and_marks_absent_courses(
    make_coursebase_sandbox, make_connection, run_platform
):
    sandbox = make_coursebase_sandbox(course_titles=[f"Course {i}" for i in range(250)])
    connection = make_connection(sandbox)
    first = run_platform(connection, "courses")
    assert first.created == 250 and first.fetched == 250
    assert len([e for e in sandbox.request_log if "org.courses.list" in e["path"]]) == 3

    again = run_platform(connection, "courses")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 250)

    del sandbox.reports.data.courses[:10]
    third = run_platform(connection, "courses")
    assert third.removed == 10
    assert PlatformCourse.objects.filter(connection=connection, present=False).count() == 10
    assert PlatformCourse.objects.filter(connection=connection).count() == 250  # never deleted


def test_course_list_cursor_loop_fails_the_run(connection, coursebase_sandbox, run_platform):
    """A cursor that comes back (the same `next` twice) never loops: the run fails."""
    coursebase_sandbox.reports.data.courses = [
        {"course_id": f"c{i}", "title": f"T{i}"} for i in range(150)
    ]
    real = coursebase_sandbox._courses

    def looping(body):
        reply = real({})  # always the first page, whatever the cursor
        return reply

    coursebase_sandbox._methods["org.courses.list"] = looping
    run = run_platform(connection, "courses")
    assert run.status in (PlatformRun.Status.FAILED, PlatformRun.Status.PARTIAL)
    assert "cursor does not move on" in run.error_summary
    assert PlatformCourse.objects.filter(connection=connection, present=False).count() == 0


def test_bad_course_item_is_an_error_and_the_rest_imports(
    connection, coursebase_sandbox, run_platform
):
    coursebase_sandbox.reports.data.courses = [
        {"course_id": "ok1", "title": "Fine"},
        {"course_id": "", "title": "No id"},
        {"course_id": "ok2", "title": "<b>Also</b> fine"},
    ]
    run = run_platform(connection, "courses")
    assert run.status == PlatformRun.Status.PARTIAL
    assert run.failed == 1 and run.created == 2
    assert run.errors.filter(category="invalid_item").count() == 1


# --------------------------------------------------------------------------- report exports


def test_reports_are_exported_downloaded_and_stored(
    make_coursebase_sandbox, make_connection, run_platform
):
    sandbox = make_coursebase_sandbox(course_titles=TITLES, users=12)
    connection = make_connection(sandbox)
    python, *_ = synced(connection.group, *TITLES)

    run = run_platform(connection, "reports")

    assert run.status == PlatformRun.Status.SUCCEEDED, (
        run.error_summary,
        list(run.errors.values()),
    )
    figures = PlatformCourse.objects.get(connection=connection, title=TITLES[0])
    expected = [p for (_, c), p in sandbox.reports.data.progress.items() if c == figures.remote_id]
    assert figures.learners == len(expected)
    assert figures.completed == sum(p["status"] == "completed" for p in expected)
    assert figures.course == python and figures.match == "matched"
    assert figures.report_updated_at is not None
    assert PlatformLearnerProgress.objects.filter(connection=connection).count() == len(
        sandbox.reports.data.progress
    )
    # the documented arguments were sent, and no token went to the storage host
    sent = sandbox.reports.export_requests
    assert {r["report_type"] for r in sent} == {"courses", "learners"}
    assert all(r["language"] == "en" and r["time_zone"] == "Europe/Paris" for r in sent)
    assert sandbox.reports.downloads == 2
    assert sandbox.reports.download_auth == ["", ""]  # the signed URL, never the API token
    assert run.details["report learners"]["rows"] == len(sandbox.reports.data.progress)

    again = run_platform(connection, "reports")
    assert (again.created, again.updated) == (0, 0)

    user_id, course_id = next(iter(sandbox.reports.data.progress))
    sandbox.reports.data.set_progress(user_id, course_id, 100)
    sandbox.reports.data.progress.pop(list(sandbox.reports.data.progress)[-1])
    third = run_platform(connection, "reports")
    assert third.updated >= 1
    assert PlatformLearnerProgress.objects.filter(connection=connection).count() == len(
        sandbox.reports.data.progress
    )


def test_a_second_export_request_joins_the_running_one(coursebase_sandbox):
    """ "Only one report of each type can be exported at a time. Submitting a request for an
    ongoing export will return the status of the current operation." (Coursebase API)"""
    with CoursebaseClient(coursebase_sandbox.credentials()) as client:
        first = client.report_export("learners", language="en", time_zone="Asia/Tokyo")
        client.report_status("learners")
        second = client.report_export("learners", language="fr", time_zone="UTC")
    assert first["status"] == "pending"
    assert second["status"] == "started" and second["language"] == "en"


def test_the_sandbox_refuses_what_the_api_refuses(coursebase_sandbox):
    from integrations.platforms.base import PlatformApiError, PlatformNotFound

    with CoursebaseClient(coursebase_sandbox.credentials()) as client:
        with pytest.raises(PlatformNotFound):
            client.report_status("courses")  # no export started
        refused = [
            ("nope", "en", "UTC"),
            ("learners", "xx", "UTC"),
            ("learners", "en", "Mars/Base"),
            ("udemy_user_progress", "en", "UTC"),
        ]
        for report_type, language, zone in refused:
            with pytest.raises(PlatformApiError):
                client.report_export(report_type, language=language, time_zone=zone)


def test_a_bad_row_is_an_error_and_the_rest_imports(
    make_coursebase_sandbox, make_connection, run_platform
):
    sandbox = make_coursebase_sandbox(course_titles=TITLES, users=6)
    sandbox.reports.content["learners"] = "bad_row"
    connection = make_connection(sandbox)
    run = run_platform(connection, "reports")
    assert run.status == PlatformRun.Status.PARTIAL
    error = run.errors.get(category="bad_row")
    assert error.external_id == "line 2" and "percentage" in error.message
    stored = PlatformLearnerProgress.objects.filter(connection=connection).count()
    assert stored == len(sandbox.reports.data.progress) - 1


@pytest.mark.parametrize("content", ["not_zip", "bad_header", "no_csv", "empty"])
def test_an_unreadable_report_stores_nothing_of_it_and_the_other_goes_on(
    make_coursebase_sandbox, make_connection, run_platform, content
):
    sandbox = make_coursebase_sandbox(course_titles=TITLES, users=6)
    connection = make_connection(sandbox)
    assert run_platform(connection, "reports").status == PlatformRun.Status.SUCCEEDED
    before = sorted(
        PlatformLearnerProgress.objects.values_list("email", "course_remote_id", "progress")
    )
    for key in list(sandbox.reports.data.progress)[:3]:
        sandbox.reports.data.set_progress(key[0], key[1], 100)
    sandbox.reports.content["learners"] = content

    run = run_platform(connection, "reports")

    assert run.status == PlatformRun.Status.PARTIAL
    assert run.errors.filter(category="bad_report", external_id="learners").count() == 1
    after = sorted(
        PlatformLearnerProgress.objects.values_list("email", "course_remote_id", "progress")
    )
    assert after == before  # the previous figures stay whole
    assert run.details["report courses"]["rows"] == len(TITLES)


def test_an_export_pending_past_its_limit_times_out_with_nothing_written(
    connection, coursebase_sandbox, run_platform, settings
):
    settings.REPORT_EXPORT_MAX_WAIT = 0.3
    coursebase_sandbox.reports.never_finish.add("courses")
    run = run_platform(connection, "reports")
    assert run.status == PlatformRun.Status.TIMED_OUT
    assert "still" in run.error_summary and "courses" in run.error_summary
    assert not PlatformCourse.objects.filter(connection=connection).exists()
    assert not PlatformLearnerProgress.objects.exists()


def test_an_expired_download_link_asks_for_a_new_export(
    connection, coursebase_sandbox, run_platform
):
    """ "You have one hour to obtain the download URL of a finished report export" (Coursebase
    API): a link used after it answers 403; the connector asks for a new export."""
    reports = coursebase_sandbox.reports
    clock = {"now": 1_800_000_000.0}
    reports.now = lambda: clock["now"]
    real_download = reports.download
    expired_once = {"courses": False}

    def late(path):
        if "courses" in path and not expired_once["courses"]:
            expired_once["courses"] = True
            clock["now"] += 3601  # the hour passed between the status and the download
        return real_download(path)

    reports.download = late
    run = run_platform(connection, "reports")
    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    assert sum(r["report_type"] == "courses" for r in reports.export_requests) == 2
    assert PlatformCourse.objects.filter(connection=connection).exists()


def test_a_download_host_that_is_not_coursebase_storage_is_refused(
    connection, coursebase_sandbox, run_platform
):
    """An answer pointing the worker at another host (SSRF) is not fetched."""
    reports = coursebase_sandbox.reports
    real = reports._describe

    def elsewhere(export):
        data = real(export)
        if "url" in data:
            data["url"] = "https://169.254.169.254/latest/meta-data/x.zip"
        return data

    reports._describe = elsewhere
    run = run_platform(connection, "reports")
    assert run.status == PlatformRun.Status.FAILED
    assert "not allowed" in run.error_summary
    assert reports.downloads == 0


def test_a_zip_bomb_is_refused_as_it_inflates(settings, tmp_path):
    from integrations.platforms.coursebase.report_file import ReportFileError, report_rows

    settings.REPORT_MAX_CSV_MB = 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Learners.csv", b"a,b\n" + b"1,2\n" * 2_000_000)  # 8 MB inflated
    assert len(buffer.getvalue()) < 100_000
    buffer.seek(0)
    with pytest.raises(ReportFileError, match="larger than 1 MB"):
        for _ in report_rows(buffer):
            pass


def test_reports_data_is_deterministic():
    users = [{"user_id": f"u{i}", "login_id": f"u{i}@example.com"} for i in range(5)]
    assert ReportsData.generate(users).progress == ReportsData.generate(users).progress


def test_learner_report_dates_are_read_in_the_requested_zone(
    make_coursebase_sandbox, make_connection, run_platform
):
    """A completion stored at 09:30 UTC is written 10:30 (Paris, no offset) in the report and
    read back as 09:30 UTC (it used to be read as 10:30 UTC: a 1-2 h shift)."""
    from datetime import UTC, datetime

    sandbox = make_coursebase_sandbox(course_titles=TITLES, users=12)
    connection = make_connection(sandbox)
    synced(connection.group, *TITLES)
    user_id, course_id = next(iter(sandbox.reports.data.progress))
    sandbox.reports.data.set_progress(user_id, course_id, 100)  # completed 2026-11-20 09:30 UTC
    run = run_platform(connection, "reports")
    assert run.status == PlatformRun.Status.SUCCEEDED, run.error_summary
    completed = PlatformLearnerProgress.objects.filter(
        connection=connection, completed_at__isnull=False
    )
    assert completed.count() == 1
    assert {p.completed_at for p in completed} == {datetime(2026, 11, 20, 9, 30, tzinfo=UTC)}
