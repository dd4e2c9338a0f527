"""Launches that 360Learning's rule counts as completed are told apart on the group dashboard
(beside "Completed on Udemy", the course dashboard's words) and in the attempts CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt
from tests.factories import AttemptFactory, CourseFactory, LearnerFactory

pytestmark = pytest.mark.django_db

WORDS = "launched, counted as completed per 360Learning's rule"


def launched(course, days_ago: int, email: str = "") -> Attempt:
    """An attempt closed by START alone: completed at the launch, 0 %, no Udemy figures."""
    moment = timezone.now() - timedelta(days=days_ago)
    learner = LearnerFactory(email=email) if email else LearnerFactory()
    return AttemptFactory(
        course=course,
        learner=learner,
        source=Attempt.Source.LAUNCH,
        launched_at=moment,
        completed_at=moment,
        last_activity=moment,
        is_open=False,
        progress=0,
    )


def test_the_group_dashboard_counts_launches_beside_udemy_completions(
    admin_client, group, integration
):
    course = CourseFactory(integration=integration)
    now = timezone.now()
    AttemptFactory(course=course, completed_at=now - timedelta(days=1), is_open=False, progress=100)
    launched(course, 2)
    launched(course, 3)
    response = admin_client.get(reverse("catalog:group_dashboard", args=[group.slug]))
    html = response.content.decode()
    assert response.context["total_completions"] == 1
    assert response.context["total_launched"] == 2
    tile = html[html.index('data-testid="total-launched"') :]
    assert f"+ 2 {WORDS}" in tile[: tile.index("</div>")]


def test_the_group_dashboard_says_nothing_of_launches_without_any(admin_client, group, integration):
    course = CourseFactory(integration=integration)
    AttemptFactory(course=course, completed_at=timezone.now(), is_open=False, progress=100)
    html = admin_client.get(reverse("catalog:group_dashboard", args=[group.slug])).content
    assert b'data-testid="total-launched"' not in html


def test_the_csv_says_a_launch_closed_the_attempt(admin_client, group, integration):
    course = CourseFactory(integration=integration)
    launched(course, 1, email="lea@example.com")
    url = reverse("catalog:course_dashboard", args=[group.slug, course.pk]) + "?format=csv"
    response = admin_client.get(url)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    source = rows[0].index("completion_source")
    (row,) = [r for r in rows[1:] if r[0] == "lea@example.com"]
    assert row[source] == "launch"
