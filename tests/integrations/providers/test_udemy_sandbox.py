"""The Udemy sandbox: deterministic realistic data, Udemy-like paging and auth, control API."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.sandboxes.udemy import ANONYMIZED, UdemyData, UdemySandbox
from tests.celery_worker import wait_for

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def get(sandbox: UdemySandbox, endpoint: str = "courses/list/", auth=None, **params):
    auth = auth if auth is not None else (sandbox.client_id, sandbox.client_secret)
    return requests.get(f"{sandbox.api_base_url}{endpoint}", params=params, auth=auth, timeout=5)


def control(sandbox: UdemySandbox, scenario: dict | None = None) -> requests.Response:
    if scenario is None:
        return requests.get(f"{sandbox.url}/_sandbox/state", timeout=5)
    return requests.post(f"{sandbox.url}/_sandbox/scenario", json=scenario, timeout=5)


@pytest.fixture(scope="module")
def demo() -> UdemyData:
    """The demo organization (same arguments as Procfile.dev)."""
    return UdemyData.generate(seed=1, courses=300, paths=12, learners=60)


# --------------------------------------------------------------------------- determinism


def test_the_same_seed_gives_the_same_data(demo):
    again = UdemyData.generate(seed=1, courses=300, paths=12, learners=60)
    assert again == demo
    assert UdemyData.generate(seed=2, courses=300, paths=12, learners=60) != demo


def test_mutations_are_deterministic_too():
    first, second = (UdemyData.generate(seed=5, courses=50) for _ in range(2))
    for data in (first, second):
        added = data.add_courses(3)
        data.update_courses([c["id"] for c in data.courses[:2]])
        data.retire_courses([added[0]["id"]])
        data.advance_progress(4)
    assert first == second


# --------------------------------------------------------------------------- realism


def test_courses_look_like_udemy_courses(demo):
    courses = demo.courses
    assert len({c["id"] for c in courses}) == 300
    assert len({c["url"] for c in courses}) == 300
    for course in courses:
        assert isinstance(course["id"], int)
        assert course["url"].startswith("https://demo.udemy.com/course/")
        assert course["description"].startswith("<p>")
        assert "<ul>" in course["description"]
        assert isinstance(course["estimated_content_length"], int)
        assert course["categories"]
        assert all(isinstance(i, str) for i in course["instructors"])
        assert len(course["images"]) >= 10
        assert "size_750x422" in course["images"]
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", course["last_update_date"])
        for video in course["promo_video_url"]:
            assert video["type"] == "video/mp4"
            assert video["label"] in {"360", "480", "720", "1080"}
    hostile = [
        c for c in courses if "alert(1)" in c["description"] or "<iframe" in c["description"]
    ]
    assert 3 <= len(hostile) <= 12  # ~2%
    assert any("<strong>" in c["description"] for c in courses)
    assert any("locale" not in c for c in courses)
    assert any("locale" in c and c["locale"] is None for c in courses)
    locales = {c["locale"]["locale"] for c in courses if c.get("locale")}
    assert {"en_US", "fr_FR", "de_DE", "ja_JP", "pt_BR", "es_ES"} <= locales
    assert any(c["is_practice_test_course"] for c in courses)


def test_learning_paths_cover_the_known_variants(demo):
    paths = demo.learning_paths
    assert len(paths) == 12
    assert {p["id"] for p in paths} & {c["id"] for c in demo.courses}, "ids overlap on purpose"
    assert {type(p["thumbnail"]) for p in paths} == {str, dict}
    editor_keys = {k for p in paths for e in p["editors"] for k in e}
    assert {"display_name", "email_address", "email", "lms_user_id"} <= editor_keys
    for path in paths:
        assert ISO_Z.match(path["created"])
        assert ISO_Z.match(path["last_modified"])
        items = [i for s in path["sections"] for i in s["items"]]
        assert path["number_of_content_items"] == len(items)
        assert {"id", "type", "title", "url", "order", "duration", "resource_url"} <= set(items[0])
    assert "course" in {i["type"] for p in paths for s in p["sections"] for i in s["items"]}


def test_activity_rows_cover_every_case(demo):
    rows = demo.activity
    known = set(demo.learner_emails)
    assert all(e == e.lower() for e in demo.learner_emails)
    assert len(known) == 60
    people = [r for r in rows if r["user_email"] != ANONYMIZED]
    assert {r["user_email"].lower() for r in people} == known  # everyone matches a learner
    assert any(r["user_email"] != r["user_email"].lower() for r in people), "mixed case"
    assert any(r["user_email"] == ANONYMIZED for r in rows)
    not_started = [r for r in people if not r["course_start_date"] and not r["completion_ratio"]]
    in_progress = [r for r in people if 0 < r["completion_ratio"] < 100]
    completed = [r for r in people if r["course_completion_date"] and r["course_start_date"]]
    no_start = [r for r in people if r["course_completion_date"] and not r["course_start_date"]]
    assert all((not_started, in_progress, completed, no_start))
    assert all(r["course_enroll_date"] for r in not_started)
    assert all(r["completion_ratio"] == 100 for r in completed + no_start)
    assert any(isinstance(r["completion_ratio"], float) for r in in_progress)
    for row in rows:
        assert 0 <= row["completion_ratio"] <= 100
        assert ISO_Z.match(row["course_enroll_date"])


def test_unknown_learners_are_opt_in():
    data = UdemyData.generate(courses=20, learners=5, unknown_learners=2)
    assert len(data.unknown_emails) == 2
    emails = {r["user_email"].lower() for r in data.activity}
    assert set(data.unknown_emails) <= emails
    assert not set(data.unknown_emails) & set(data.learner_emails)


def test_mutators_change_the_catalog_and_progress():
    data = UdemyData.generate(courses=20, learners=10)
    ids = [c["id"] for c in data.courses]
    added = data.add_courses(3)
    assert len({c["id"] for c in data.courses}) == 23
    assert not {c["id"] for c in added} & set(ids)
    before = dict(data.courses[0])
    data.update_courses([ids[0]])
    assert data.courses[0]["title"] != before["title"]
    assert data.courses[0]["description"] != before["description"]
    data.retire_courses(ids[1:3])
    assert ids[1] not in {c["id"] for c in data.courses}
    moved = data.advance_progress(2)
    assert len(moved) == 2
    for email, course_id in moved:
        assert email in data.learner_emails
        (row,) = [
            r
            for r in data.activity
            if r["user_email"].lower() == email and r["course_id"] == course_id
        ]
        assert row["completion_ratio"] == 100
        assert ISO_Z.match(row["course_completion_date"])


def test_the_0_to_1_switch_serves_every_ratio_as_a_fraction():
    percent = UdemyData.generate(courses=20, learners=10)
    fraction = UdemyData.generate(courses=20, learners=10, ratio_scale="0-1")
    assert fraction.ratio_scale == "0-1"
    pairs = list(zip(percent.activity, fraction.activity, strict=True))
    for on_100, on_1 in pairs:
        assert on_1["completion_ratio"] == pytest.approx(on_100["completion_ratio"] / 100)
        assert 0 <= on_1["completion_ratio"] <= 1
    assert any(
        r["completion_ratio"] == 1.0 and r["course_completion_date"] for r in fraction.activity
    )
    moved = fraction.advance_progress(1)
    (row,) = [r for r in fraction.activity if (r["user_email"].lower(), r["course_id"]) == moved[0]]
    assert row["completion_ratio"] == 1.0  # completed on the report's scale
    fraction.use_ratio_scale("0-100")
    for on_100, back in zip(percent.activity, fraction.activity, strict=True):
        if back is not row:
            assert back["completion_ratio"] == pytest.approx(on_100["completion_ratio"])
    assert row["completion_ratio"] == 100


def test_enroll_only_adds_rows_of_learners_who_have_not_started():
    data = UdemyData.generate(courses=20, learners=10)
    before = len(data.activity)
    enrolled = data.enroll_only(3)
    assert len(enrolled) == 3 and len(data.activity) == before + 3
    for email, course_id in enrolled:
        (row,) = [
            r
            for r in data.activity
            if r["user_email"].lower() == email and r["course_id"] == course_id
        ]
        assert row["course_enroll_date"] and row["is_assigned"] == "Yes"
        assert not (row["course_start_date"] or row["completion_ratio"])
        assert not (row["num_video_consumed_minutes"] or row["course_completion_date"])


def test_relaunch_completed_adds_minutes_and_keeps_the_completion():
    data = UdemyData.generate(courses=20, learners=10)
    ((email, course_id),) = data.relaunch_completed(1, minutes=40)
    (row,) = [
        r for r in data.activity if r["user_email"].lower() == email and r["course_id"] == course_id
    ]
    again = UdemyData.generate(courses=20, learners=10)
    (original,) = [
        r
        for r in again.activity
        if r["user_email"].lower() == email and r["course_id"] == course_id
    ]
    assert row["num_video_consumed_minutes"] == original["num_video_consumed_minutes"] + 40
    assert row["course_completion_date"] == original["course_completion_date"]
    assert row["course_last_accessed_date"] > original["course_last_accessed_date"]


def test_the_report_switches_through_the_scenario_endpoint(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=20, learners=10)
    result = control(
        sandbox, {"ratio_scale": "0-1", "enroll_only": 2, "relaunch_completed": 1}
    ).json()
    assert result["ratio_scale"] == "0-1"
    assert len(result["enrolled_only"]) == 2 and len(result["relaunched"]) == 1
    assert all(0 <= r["completion_ratio"] <= 1 for r in sandbox.data.activity)
    assert control(sandbox, {"ratio_scale": "0-50"}).status_code == 400


# --------------------------------------------------------------------------- HTTP behaviour


def test_the_page_envelope_is_udemys(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=30)
    first = get(sandbox, **{"fields[courses]": "@all"})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 30
    assert len(body["results"]) == 12  # Udemy's default page size
    assert body["previous"] is None
    next_url = urlsplit(body["next"])
    assert f"{next_url.scheme}://{next_url.netloc}" == sandbox.url
    assert parse_qs(next_url.query) == {"fields[courses]": ["@all"], "page": ["2"]}
    second = requests.get(body["next"], auth=(sandbox.client_id, sandbox.client_secret), timeout=5)
    previous = second.json()["previous"]
    assert parse_qs(urlsplit(previous).query) == {"fields[courses]": ["@all"]}
    last = get(sandbox, page=3).json()
    assert last["next"] is None
    assert len(last["results"]) == 6


@pytest.mark.parametrize("page", ["4", "0", "-1", "abc"])
def test_an_invalid_page_is_400(make_udemy_sandbox, page):
    sandbox = make_udemy_sandbox(courses=30)
    response = get(sandbox, page=page)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid page."}


def test_an_empty_list_has_a_first_page(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(paths=0)
    body = get(sandbox, "learning-paths/list/").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_page_size_is_clamped_to_100(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=150)
    assert len(get(sandbox, page_size=1000).json()["results"]) == 100
    assert len(get(sandbox, page_size=7).json()["results"]) == 7


@pytest.mark.parametrize("auth", [None, ("demo-client", "wrong"), ("other", "demo-secret")])
def test_bad_or_missing_credentials_are_401(udemy_sandbox, auth):
    url = f"{udemy_sandbox.api_base_url}courses/list/"
    response = requests.get(url, auth=auth, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username/password."}


def test_another_organization_is_404(udemy_sandbox):
    url = udemy_sandbox.api_base_url.replace("/4242/", "/4243/") + "courses/list/"
    response = requests.get(url, auth=("demo-client", "demo-secret"), timeout=5)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_report_filters(udemy_sandbox):
    row = udemy_sandbox.data.activity[0]
    body = get(
        udemy_sandbox,
        "analytics/user-course-activity/",
        user_email=row["user_email"].upper(),
        course_id=row["course_id"],
    ).json()
    assert body["results"] == [row]


def test_faults_match_a_path_and_are_consumed(udemy_sandbox):
    udemy_sandbox.fail(path_contains="page=2", status=503, times=2, retry_after=1.5)
    assert get(udemy_sandbox, page=1).status_code == 200
    failed = get(udemy_sandbox, page=2)
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "1.5"
    assert get(udemy_sandbox, page=2).status_code == 503
    assert get(udemy_sandbox, page=2).status_code == 200
    statuses = [e["status"] for e in udemy_sandbox.request_log]
    assert statuses == [200, 503, 503, 200]


def test_fault_bodies(udemy_sandbox):
    udemy_sandbox.fail(status=502, body="html")
    udemy_sandbox.fail(status=200, body="truncated")
    html = get(udemy_sandbox)
    assert html.headers["Content-Type"] == "text/html"
    assert html.text.startswith("<!DOCTYPE html>")
    truncated = get(udemy_sandbox)
    assert truncated.status_code == 200
    with pytest.raises(ValueError):
        truncated.json()
    udemy_sandbox.fail(status=500)
    udemy_sandbox.reset_faults()
    assert get(udemy_sandbox).status_code == 200


def test_a_stopped_sandbox_drops_kept_alive_connections(make_udemy_sandbox):
    sandbox = make_udemy_sandbox()
    with requests.Session() as session:
        url = f"{sandbox.api_base_url}courses/list/"
        assert session.get(url, auth=("demo-client", "demo-secret"), timeout=5).ok
        sandbox.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(url, auth=("demo-client", "demo-secret"), timeout=5)


def test_stop_interrupts_a_hanging_response(make_udemy_sandbox):
    """An answer hanging for an hour ends when the sandbox stops (waited for, not timed: only
    the interruption can end it within the wait's timeout)."""
    sandbox = make_udemy_sandbox()
    sandbox.fail(body="hang", hang_seconds=3600)
    with pytest.raises(requests.Timeout):
        requests.get(f"{sandbox.api_base_url}courses/list/", timeout=(5, 0.3))
    assert sandbox.state()["in_flight"] == 1  # still hanging after its client gave up
    sandbox.stop()
    wait_for(lambda: sandbox.state()["in_flight"] == 0, timeout=60, message="the hang to end")


# --------------------------------------------------------------------------- control API


def test_state_and_scenario_endpoints(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(courses=20, paths=2, learners=4)
    get(sandbox)
    state = control(sandbox).json()
    assert state["courses"] == 20
    assert state["learning_paths"] == 2
    assert state["activity"] == len(sandbox.data.activity)
    assert state["requests"] == 1  # control calls are not API requests
    first_ids = [c["id"] for c in sandbox.data.courses[:2]]
    result = control(
        sandbox,
        {
            "latency": 0.01,
            "fail": [{"status": 429, "retry_after": 7}],
            "add_courses": 5,
            "update_courses": first_ids[:1],
            "retire_courses": 1,
            "advance_progress": 1,
        },
    ).json()
    assert result["ok"] is True
    assert len(result["added_courses"]) == 5
    assert result["retired_courses"] == first_ids[:1]
    assert len(result["advanced"]) == 1
    assert result["state"]["courses"] == 24
    assert sandbox.latency == 0.01
    limited = get(sandbox)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    control(sandbox, {"fail": [{"status": 500, "times": 3}], "reset_faults": False})
    control(sandbox, {"reset_faults": True, "latency": 0})
    assert get(sandbox).status_code == 200


@pytest.mark.parametrize(
    "scenario", [b"not json", b"[1]", b'{"explode": 1}', b'{"fail": [{"body": "weird"}]}']
)
def test_an_invalid_scenario_is_400(udemy_sandbox, scenario):
    response = requests.post(f"{udemy_sandbox.url}/_sandbox/scenario", data=scenario, timeout=5)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid scenario")


def test_generate_splits_its_options_between_the_data_and_the_server():
    sandbox = UdemySandbox.generate(
        seed=2, courses=3, paths=0, learners=1, organization_name="acme", latency=0.2
    )
    assert sandbox.data == UdemyData.generate(
        seed=2, courses=3, paths=0, learners=1, organization_name="acme"
    )
    assert (sandbox.organization_name, sandbox.data.organization_name) == ("acme", "acme")
    assert sandbox.latency == 0.2
    seeded_alike = UdemySandbox(sandbox.data, seed=2, latency=0.2)  # `seed` seeds the jitter too
    for server in (sandbox, seeded_alike):
        server.jitter = 0.05
    path = "/api-2.0/organizations/4242/courses/list/"
    assert [sandbox.respond("GET", path, {}, b"").delay for _ in range(3)] == [
        seeded_alike.respond("GET", path, {}, b"").delay for _ in range(3)
    ]
    with pytest.raises(TypeError):
        UdemySandbox.generate(courses=3, colour="blue")  # neither the data's nor the server's
