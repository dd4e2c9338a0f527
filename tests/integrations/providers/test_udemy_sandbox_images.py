"""The Udemy sandbox's own course pictures, and activity dated relative to today.

Udemy's payloads point at its CDN; the sandbox's point at itself (same shape: an `images`
object of sizes, absolute URLs), so the demo shows real pictures offline. Its activity leads up
to yesterday, so that the group dashboard's 90-day window is never empty on the demo's first day.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from catalog.course_selectors import activity_series_for_group
from catalog.models import Course
from integrations.models import Integration, SyncRun
from integrations.sandboxes.udemy import UdemyData, anchor_for
from integrations.sandboxes.udemy.vocabulary import IMAGE_SIZES
from integrations.services.sync import sync_execute
from tests.lmsbridge.test_foundation import ROOT, production_env

SVG = "{http://www.w3.org/2000/svg}svg"
DATE_FIELDS = (
    "course_enroll_date",
    "course_start_date",
    "course_completion_date",
    "course_first_completion_date",
    "course_last_accessed_date",
    "last_activity_date",
)
# The demo's sandbox (Procfile.dev, seed_demo).
DEMO = {"seed": 1, "courses": 300, "paths": 12, "learners": 60}


def api(sandbox, endpoint: str, **params) -> dict:
    url = f"{sandbox.api_base_url}{endpoint}"
    auth = (sandbox.client_id, sandbox.client_secret)
    response = requests.get(url, params=params, auth=auth, timeout=5)
    response.raise_for_status()
    return response.json()


def svg_root(response: requests.Response) -> ET.Element:
    assert response.status_code == 200, response.text[:200]
    assert response.headers["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == SVG
    return root


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- pictures


def test_course_payloads_point_at_pictures_the_sandbox_serves(udemy_sandbox):
    (course, *_) = api(udemy_sandbox, "courses/list/", page_size=5)["results"]
    images = course["images"]
    assert set(images) == set(IMAGE_SIZES)  # Udemy's keys, one URL per size
    for key, url in images.items():
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == udemy_sandbox.url, url
        assert parts.path.startswith(f"/images/course/{key.removeprefix('size_')}/")
        assert parts.path.endswith(".svg") and f"/{course['id']}_" in parts.path
    root = svg_root(requests.get(images["size_480x270"], timeout=5))  # no auth, like a CDN
    assert (root.get("width"), root.get("height")) == ("480", "270")
    initials = "".join(root.itertext()).strip()
    assert 1 <= len(initials) <= 2 and initials == initials.upper()
    small = svg_root(requests.get(images["size_125_H"], timeout=5))
    assert (small.get("width"), small.get("height")) == ("222", "125")  # 16:9


def test_a_picture_is_deterministic_and_differs_between_courses(udemy_sandbox):
    first, second = api(udemy_sandbox, "courses/list/", page_size=2)["results"]
    one = requests.get(first["images"]["size_750x422"], timeout=5).content
    assert requests.get(first["images"]["size_750x422"], timeout=5).content == one
    other = requests.get(second["images"]["size_750x422"], timeout=5).content
    fills = re.compile(rb'stop-color="(#[0-9a-f]{6})"')
    assert fills.findall(one) != fills.findall(other)


def test_learning_path_and_item_thumbnails_are_served_too(udemy_sandbox):
    paths = api(udemy_sandbox, "learning-paths/list/")["results"]
    urls = []
    for path in paths:
        thumbnail = path["thumbnail"]
        urls.extend(thumbnail.values() if isinstance(thumbnail, dict) else [thumbnail])
        items = [i for s in path["sections"] for i in s["items"] if i["thumbnail"]]
        urls.extend(item["thumbnail"] for item in items)
    assert urls and all(url.startswith(f"{udemy_sandbox.url}/images/") for url in urls)
    for url in urls:
        svg_root(requests.get(url, timeout=5))


def test_the_data_holds_paths_and_stays_independent_of_the_port(udemy_sandbox):
    data = UdemyData.generate(seed=1, courses=25, paths=4, learners=10)
    course = data.courses[0]
    assert course["images"]["size_480x270"].startswith("/images/course/480x270/")
    assert udemy_sandbox.data == data  # the served URLs are made when a page is served


def test_unknown_pictures_are_404_and_pictures_bypass_the_api_machinery(udemy_sandbox):
    base = f"{udemy_sandbox.url}/images/course/480x270"
    assert requests.get(f"{base}/1_0000abcd.svg", timeout=5).status_code == 404
    assert requests.get(f"{udemy_sandbox.url}/images/../etc/passwd", timeout=5).status_code == 404
    course = udemy_sandbox.data.courses[0]
    url = udemy_sandbox.url + course["images"]["size_480x270"]
    assert requests.post(url, timeout=5).status_code == 405
    udemy_sandbox.fail(status=503)  # queued for the next API request, not for pictures
    svg_root(requests.get(url, timeout=5))
    assert udemy_sandbox.request_log == []
    assert udemy_sandbox.state()["faults"] == 1


def test_a_retired_course_keeps_its_picture(udemy_sandbox):
    row = udemy_sandbox.data.activity[0]
    course = next(c for c in udemy_sandbox.data.courses if c["id"] == row["course_id"])
    url = udemy_sandbox.url + course["images"]["size_240x135"]
    udemy_sandbox.data.retire_courses([course["id"]])
    svg_root(requests.get(url, timeout=5))


# --------------------------------------------------------------------------- activity dates


def row_moments(data: UdemyData) -> list[datetime]:
    return [moment(row[f]) for row in data.activity for f in DATE_FIELDS if row[f]]


def test_the_demo_activity_leads_up_to_yesterday():
    data = UdemyData.generate(**DEMO)
    now = datetime.now(UTC)
    window = now - timedelta(days=90)
    moments = row_moments(data)
    assert max(moments) <= now
    assert now - max(moments) < timedelta(days=2)
    recent = [row for row in data.activity if moment(row["last_activity_date"]) >= window]
    assert len(recent) >= len(data.activity) // 10, "the dashboard's 90 days are not empty"
    completed = [r for r in recent if r["course_completion_date"]]
    assert any(moment(r["course_completion_date"]) >= window for r in completed)


def test_a_fixed_today_gives_the_same_data_shifted_by_the_days_between():
    day = date(2025, 6, 3)
    data = UdemyData.generate(courses=40, learners=10, today=day)
    assert data.anchor == anchor_for(day) == datetime(2025, 6, 2, 7, tzinfo=UTC)
    assert data == UdemyData.generate(courses=40, learners=10, today=day)
    assert max(row_moments(data)) <= data.anchor
    later = UdemyData.generate(courses=40, learners=10, today=day + timedelta(days=10))
    pairs = list(zip(data.activity, later.activity, strict=True))
    for row, shifted in pairs:
        assert {k: v for k, v in row.items() if k not in DATE_FIELDS} == {
            k: v for k, v in shifted.items() if k not in DATE_FIELDS
        }
        for field in DATE_FIELDS:
            if row[field]:
                assert moment(shifted[field]) - moment(row[field]) == timedelta(days=10)


def test_mutations_stay_in_the_past():
    data = UdemyData.generate(courses=40, learners=10)
    for _ in range(5):
        data.advance_progress(2)
        data.enroll_only(1)
        data.relaunch_completed(1)
    assert max(row_moments(data)) <= datetime.now(UTC)


# --------------------------------------------------------------------------- the demo


@pytest.mark.django_db
def test_the_synced_demo_shows_served_pictures_and_a_busy_dashboard(make_udemy_sandbox, client):
    sandbox = make_udemy_sandbox(**DEMO)
    call_command("seed_demo", sandbox_url=sandbox.url, stdout=io.StringIO())
    integration = Integration.objects.get(api_base_url=sandbox.api_base_url)
    for kind in ("content", "stats"):
        run = SyncRun.objects.create(integration=integration, kind=kind)
        assert sync_execute(run_id=run.pk).status == SyncRun.Status.SUCCEEDED
    courses = Course.objects.filter(integration=integration)
    for kind in (Course.Kind.COURSE, Course.Kind.LEARNING_PATH):
        course = courses.filter(kind=kind).exclude(image="").first()
        assert course is not None, kind
        response = requests.get(course.image, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("image/")
    assert not courses.exclude(image__startswith=f"{sandbox.url}/images/").exists()

    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get(reverse("catalog:group_catalog", args=[integration.group.slug]))
    csp = page["Content-Security-Policy"]
    img_src = next(d for d in csp.split(";") if d.strip().startswith("img-src")).split()
    assert f"http://{urlsplit(sandbox.url).hostname}:*" in img_src  # not blocked by the CSP
    series = activity_series_for_group(group=integration.group, days=90)
    assert sum(series.completions) > 0 and max(series.active_learners) > 0
    dashboard = client.get(reverse("catalog:group_dashboard", args=[integration.group.slug]))
    assert dashboard.context["total_completions"] > 0


def test_production_images_stay_https_only(tmp_path):
    """The loopback origins the sandbox's pictures need are admitted outside production only."""
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    )
    env = production_env(DATABASE_URL="sqlite://:memory:", LMSBRIDGE_VAR_DIR=str(tmp_path))
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    img_src = json.loads(result.stdout.strip().splitlines()[-1])
    assert "https:" in img_src
    assert not [source for source in img_src if source.startswith("http://")]
