"""START only sends a learner to the organization's Udemy site.

A course's `url` comes from upstream: a phishing page, a URL with user info whose real host is
another one, or a look-alike host must not become START's redirect. The mapping records such an
item as a bad item (the rest of the page goes on); START re-checks what is stored and refuses.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Attempt, Course
from integrations.core.hosts import url_origin
from integrations.core.records import MappingError
from integrations.providers.udemy.launch import launch_origins, launch_url_allowed
from integrations.providers.udemy.mapping import map_course, map_learning_path
from tests.factories import CourseFactory, GroupFactory, IntegrationFactory, group_learner

ORIGINS = launch_origins(
    organization_name="demo", base_url="https://demo.udemy.com/api-2.0/organizations/4242/"
)

HOSTILE = [
    "https://evil.example/phish",
    "http://127.0.0.1:8200@evil.example/",
    "https://demo.udemy.com.evil.example/",
    "https://demo.udemy.com@evil.example/course/x/",
    "https://evil.example\\@demo.udemy.com/course/x/",
    "https://demo.udemy.com\\.evil.example/course/x/",
    "https://evil.example\\demo.udemy.com/course/x/",
    "https://demo.udemy.com%2eevil.example/course/x/",
    "https://demo.udemy.com:8443/course/x/",  # another port
    "http://demo.udemy.com/course/x/",  # plain http
    "https://other.udemy.com/course/x/",  # another organization
    "https://udemy.com/course/x/",
    "https://xn--dmo-bma.udemy.com/course/x/",
    "https://d\u00e9mo.udemy.com/course/x/",  # IDNA
    "https://demo.udemy.com\u3002evil.example/",  # ideographic full stop
    "https://[::1]/course/x/",
    "https://demo.udemy.com:443:443/course/x/",
    "https://demo.udemy.com:99999/course/x/",
]

FINE = [
    "https://demo.udemy.com/course/python/",
    "https://DEMO.Udemy.com/course/python/",  # host names are case-insensitive
    "https://demo.udemy.com./course/python/",  # the same host, fully qualified
    "https://demo.udemy.com:443/course/python/",
    "https://demo.udemy.com/course/python/?x=@evil.example#@evil.example",
]


# --------------------------------------------------------------------------- the check


@pytest.mark.parametrize("url", HOSTILE)
def test_a_url_off_the_organization_site_is_not_allowed(url):
    assert not launch_url_allowed(url, ORIGINS)


@pytest.mark.parametrize("url", FINE)
def test_a_url_on_the_organization_site_is_allowed(url):
    assert launch_url_allowed(url, ORIGINS)


def test_the_origins_are_the_organization_site_and_the_api_override():
    origins = launch_origins(
        organization_name="Acme", base_url="http://127.0.0.1:8001/api-2.0/organizations/1/"
    )
    assert origins == ("https://acme.udemy.com:443", "http://127.0.0.1:8001")
    assert launch_url_allowed("http://127.0.0.1:8001/course/x/", origins)
    assert not launch_url_allowed("http://127.0.0.1:8200/course/x/", origins)
    assert not launch_url_allowed("http://localhost:8001/course/x/", origins)


@pytest.mark.parametrize("value", ["", "/course/x/", "//evil.example/", "javascript:alert(1)", 7])
def test_only_absolute_http_urls_have_an_origin(value):
    assert url_origin(value) == ""


# --------------------------------------------------------------------------- the mapping


def _course(url: str) -> dict:
    return {"id": 77, "title": "Phish", "url": url}


@pytest.mark.parametrize("url", HOSTILE[:4])
def test_the_mapping_reports_a_course_whose_url_is_off_the_site(url):
    with pytest.raises(MappingError) as caught:
        map_course(
            _course(url),
            sync_tags=False,
            default_lang="en",
            site_url="https://demo.udemy.com",
            launch_origins=ORIGINS,
        )
    assert caught.value.external_id == "77"
    assert "Udemy site" in caught.value.message


def test_the_mapping_reports_a_learning_path_whose_url_is_off_the_site():
    with pytest.raises(MappingError):
        map_learning_path(
            _course("https://evil.example/phish"),
            sync_tags=False,
            site_url="https://demo.udemy.com",
            launch_origins=ORIGINS,
        )


def test_the_mapping_keeps_a_relative_url_and_one_on_the_site():
    options = {"sync_tags": False, "default_lang": "en", "site_url": "https://demo.udemy.com"}
    relative = map_course(_course("/course/x/"), **options, launch_origins=ORIGINS)
    assert relative.launch_url == "https://demo.udemy.com/course/x/"
    absolute = map_course(_course(FINE[0]), **options, launch_origins=ORIGINS)
    assert absolute.launch_url == FINE[0]


# --------------------------------------------------------------------------- START


@pytest.fixture
def learner_client(client):
    integration = IntegrationFactory(organization_name="demo")
    child = GroupFactory(parent=integration.group, is_public=True)
    client.force_login(group_learner(child, username="lea"))
    client.integration = integration
    return client


def _start(client, course):
    return client.post(reverse("catalog:course_start", args=[course.pk]))


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE[:3])
def test_start_refuses_a_stored_url_off_the_site_with_a_clear_page(learner_client, url):
    course = CourseFactory(integration=learner_client.integration)
    Course.objects.filter(pk=course.pk).update(launch_url=url)
    response = _start(learner_client, course)
    assert response.status_code == 409
    assert "Location" not in response
    page = response.content.decode()
    assert "not opened" in page and "evil.example" not in page
    assert not Attempt.objects.exists()


@pytest.mark.django_db
def test_start_still_sends_the_learner_to_the_organization_site(learner_client):
    course = CourseFactory(integration=learner_client.integration, external_id="55")
    response = _start(learner_client, course)
    assert response.status_code == 302
    assert response.url == "https://demo.udemy.com/course/55/"


@pytest.mark.django_db
def test_start_accepts_the_sandbox_override_host(learner_client):
    integration = learner_client.integration
    integration.api_base_url = "http://127.0.0.1:8001"
    integration.save()
    course = CourseFactory(integration=integration)
    Course.objects.filter(pk=course.pk).update(launch_url="http://127.0.0.1:8001/course/x/")
    assert _start(learner_client, course).status_code == 302
