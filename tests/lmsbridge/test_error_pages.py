"""Error pages in the site's layout, with a way back: 404 for an unknown URL or another group's
settings, 403 for a refused action, 500 for a failure. Django's technical pages (the URL pattern
list, the traceback) are for superusers in development only, never for a learner."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.lmsbridge.error_urls")]

TECHNICAL_404 = "Using the URLconf defined in"
TECHNICAL_500 = "Traceback"


def assert_friendly(response, status: int, heading: str) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert heading in html
    assert f'data-status="{status}"' in html
    assert 'data-testid="error-home"' in html and 'href="/"' in html  # the way back
    assert TECHNICAL_404 not in html and TECHNICAL_500 not in html
    assert "urlpatterns" not in html.lower()
    return html


@pytest.fixture
def superuser_client(client: Client) -> Client:
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_an_unknown_url_is_the_friendly_404_page_in_the_site_layout(learner_client):
    html = assert_friendly(learner_client.get("/no/such/page/"), 404, "Page not found")
    assert "LMS Bridge" in html and 'id="content"' in html  # base.html: top bar, main
    assert "My catalog" in html


def test_another_groups_settings_is_the_friendly_404_page_for_a_learner(
    learner_client, group, other_group
):
    for slug in (group.slug, other_group.slug):
        response = learner_client.get(reverse("integrations:settings", args=[slug]))
        assert_friendly(response, 404, "Page not found")


def test_an_anonymous_visitor_gets_the_404_page_with_a_way_to_log_in(client):
    html = assert_friendly(client.get("/no/such/page/"), 404, "Page not found")
    assert reverse("login") in html


def test_a_refused_action_is_the_friendly_403_page(learner_client):
    html = assert_friendly(learner_client.get("/test-errors/forbidden/"), 403, "cannot open")
    assert "Only the owner of the secret" not in html  # the reason is for the logs


def test_a_failure_is_the_self_contained_500_page(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    html = assert_friendly(client.get("/test-errors/broken/"), 500, "Something went wrong")
    assert "the database went away" not in html
    assert "<script" not in html  # nothing that needs the request or the CSP's nonce


@override_settings(DEBUG=True)
def test_in_development_a_learner_never_sees_the_url_pattern_list(learner_client, other_group):
    assert_friendly(learner_client.get("/no/such/page/"), 404, "Page not found")
    response = learner_client.get(reverse("integrations:settings", args=[other_group.slug]))
    assert_friendly(response, 404, "Page not found")


@override_settings(DEBUG=True)
def test_in_development_anonymous_visitors_get_the_friendly_pages_too(client):
    assert_friendly(client.get("/no/such/page/"), 404, "Page not found")


@override_settings(DEBUG=True)
def test_in_development_a_learner_gets_the_friendly_500_page(learner_user):
    client = Client(raise_request_exception=False)
    client.force_login(learner_user)
    assert_friendly(client.get("/test-errors/broken/"), 500, "Something went wrong")


@override_settings(DEBUG=True)
def test_in_development_a_superuser_keeps_the_technical_pages(superuser_client):
    response = superuser_client.get("/no/such/page/")
    assert response.status_code == 404
    assert TECHNICAL_404 in response.content.decode()
    with pytest.raises(RuntimeError):
        superuser_client.get("/test-errors/broken/")  # the traceback page's exception


@override_settings(DEBUG=True, APPEND_SLASH=True)
def test_in_development_a_missing_slash_still_redirects(learner_client):
    response = learner_client.get("/accounts/login")
    assert response.status_code == 301 and response["Location"] == "/accounts/login/"
