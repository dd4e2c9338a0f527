"""Promises of the console: the xAPI card on the Udemy settings page (secret shown once, on
the answer to the POST that generated it) and a learning path's real-time figures."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.services.xapi_apply import xapi_apply_pending
from integrations.services.xapi_intake import xapi_statements_store

from .conftest import COMPLETED, statement

pytestmark = pytest.mark.django_db


def admin_client(door) -> Client:
    client = Client()
    client.force_login(door.admin)
    return client


def test_the_card_shows_urls_scope_status_and_never_the_secret(door):
    xapi_statements_store(integration=door.integration, body=statement(door, "1"))
    client = admin_client(door)
    page = reverse("integrations:provider", args=[door.integration.group.slug, "udemy"])
    html = client.get(page).content.decode()
    assert 'data-testid="xapi-card"' in html
    assert f"/xapi/integrations/{door.integration.pk}/statements" in html
    assert "/xapi/oauth/token/" in html
    assert "xapi:write" in html
    assert door.client_id in html
    assert "0 applied · 1 pending" in html
    assert door.client_secret not in html


def test_generate_shows_the_secret_once_and_revoke_disables(door):
    client = admin_client(door)
    action = reverse("integrations:xapi", args=[door.integration.group.slug, "udemy"])
    response = client.post(action, {"action": "generate"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    door.integration.xapi_client.refresh_from_db()
    new_id = door.integration.xapi_client.application.client_id
    assert new_id in html and new_id != door.client_id
    secret = html.split('data-testid="xapi-new-secret">')[1].split("<")[0]
    assert len(secret) > 20
    page = reverse("integrations:provider", args=[door.integration.group.slug, "udemy"])
    assert secret not in client.get(page).content.decode()
    response = client.post(action, {"action": "revoke"})
    assert response.status_code == 302
    assert 'data-testid="xapi-disabled"' in client.get(page).content.decode()


def test_a_learning_path_with_statements_shows_its_figures(door):
    xapi_statements_store(integration=door.integration, body=statement(
        door, f"path-{door.path.external_id}", verb=COMPLETED))  # fmt: skip
    xapi_apply_pending(integration_id=door.integration.pk)
    url = reverse("catalog:course_dashboard", args=[door.integration.group.slug,
                                                         door.path.pk])  # fmt: skip
    html = admin_client(door).get(url).content.decode()
    assert 'data-testid="summary-learners"' in html
    assert 'data-testid="statistics-real-time"' in html
    assert "statistics-not-available" not in html


def test_a_course_dashboard_tells_real_time_figures_from_the_daily_reports(door):
    from catalog.models import Attempt
    from tests.factories import AttemptFactory, LearnerFactory, MembershipFactory

    # A learner whose attempt only the daily report wrote (it carries the report's fingerprint).
    other = LearnerFactory(email="daily@example.com")
    MembershipFactory(group=door.integration.group, learner=other)
    AttemptFactory(learner=other, course=door.course, progress=40, fingerprint="f" * 64)
    xapi_statements_store(integration=door.integration, body=statement(
        door, door.course.external_id, progress=55))  # fmt: skip
    xapi_apply_pending(integration_id=door.integration.pk)
    assert Attempt.objects.get(learner=door.learner).progress == 55
    url = reverse("catalog:course_dashboard", args=[door.integration.group.slug,
                                                         door.course.pk])  # fmt: skip
    html = admin_client(door).get(url).content.decode()
    assert html.count('data-testid="attempt-real-time"') == 1  # the xAPI one only
    row = html.split('data-testid="attempt-real-time"')[0].rsplit("<tr>", 1)[1]
    assert door.learner.email in row and "55 %" in row
    assert 'data-testid="statistics-sources"' in html
