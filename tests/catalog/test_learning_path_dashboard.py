"""A learning path's dashboard says its statistics are not available (Udemy provides none for
learning paths) instead of showing zeros that read as "nobody took it"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CourseFactory

pytestmark = [pytest.mark.django_db]
NOT_AVAILABLE = "Not available for learning paths (Udemy provides no statistics for them)"


def dashboard(client, group, course) -> str:
    url = reverse("catalog:course_dashboard", args=[group.slug, course.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_learning_path_shows_no_zero_statistics(admin_client, group, integration):
    path = CourseFactory(group=group, integration=integration, kind="learning_path")
    html = dashboard(admin_client, group, path)
    assert NOT_AVAILABLE in html
    for testid in ("summary-learners", "summary-completions", "summary-time-spent"):
        assert f'data-testid="{testid}"' not in html


def test_a_course_keeps_its_statistics(admin_client, group, integration):
    course = CourseFactory(group=group, integration=integration, kind="course")
    html = dashboard(admin_client, group, course)
    assert NOT_AVAILABLE not in html
    assert 'data-testid="summary-learners"' in html
