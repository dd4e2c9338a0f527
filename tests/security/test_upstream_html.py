"""Promise (Secrets and access): "Upstream HTML (course descriptions) is sanitized before it is
stored or rendered" — end to end: a hostile course goes through the real client, the sync, the
database, the console pages and the API, and arrives inert everywhere."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from catalog.models import Course
from integrations.models import SyncRun
from tests.factories import UserFactory, group_learner

pytestmark = pytest.mark.django_db

HOSTILE_DESCRIPTION = (
    "<p>Learn fast.</p><script>alert('script')</script>"
    '<img src="x" onerror="alert(\'onerror\')">'
    "<a href=\"javascript:alert('href')\">Download the slides</a>"
    '<iframe src="https://evil.example.com/"></iframe>'
    '<p style="background:url(javascript:alert(1))" onclick="alert(2)">Bonus</p>'
)
HOSTILE_TITLE = "<img src=x onerror=alert('title')>Hacking 101"
DANGEROUS = re.compile(r"<script|<iframe|\bon[a-z]+\s*=|javascript:", re.IGNORECASE)


@pytest.fixture
def hostile_course(make_udemy_sandbox, make_integration, run_sync) -> Course:
    sandbox = make_udemy_sandbox(courses=3, paths=0)
    raw = sandbox.data.courses[0]
    raw["description"], raw["title"] = HOSTILE_DESCRIPTION, HOSTILE_TITLE
    integration = make_integration(sandbox)
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    return Course.objects.get(integration=integration, external_id=str(raw["id"]))


def test_the_description_is_sanitized_before_it_is_stored(hostile_course):
    assert not DANGEROUS.search(hostile_course.description), hostile_course.description
    assert "Download the slides" in hostile_course.description  # the text survives
    assert "Learn fast." in hostile_course.description


def test_the_console_course_page_renders_it_inert(client, hostile_course):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    group = hostile_course.group
    url = reverse("catalog:course_dashboard", args=[group.slug, hostile_course.pk])
    html = client.get(url).content.decode()
    description = html.split('data-testid="course-description">', 1)[1].split("</div>", 1)[0]
    assert "Download the slides" in description
    assert not DANGEROUS.search(description), description
    assert "&lt;img src=x onerror=alert(&#x27;title&#x27;)&gt;Hacking 101" in html
    assert "alert('title')" not in html


def test_catalog_pages_escape_the_title(client, hostile_course):
    client.force_login(group_learner(hostile_course.group))
    html = client.get(reverse("catalog:learner_catalog")).content.decode()
    assert "&lt;img src=x onerror=" in html
    assert "<img src=x onerror" not in html


def test_the_api_course_list_returns_it_inert(client, hostile_course):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = reverse("api:courses", args=[hostile_course.group.slug])
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"  # never sniffed into HTML
    (item,) = [
        c for c in response.json()["results"] if c["externalId"] == hostile_course.external_id
    ]
    assert not DANGEROUS.search(item["description"]), item["description"]
    assert "Download the slides" in item["description"]
