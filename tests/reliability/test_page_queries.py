"""Promise (Performance): "pages of the console answer with a constant number of queries whatever
the catalog size" — checked at scale: a group with 5,000 courses, 20,000 attempts and 300 runs
answers every page (and API list) with exactly the queries a group with 5 courses needs.

Query counts, not timings (timings belong to the benchmark). The two groups are built once for
the module, in bulk, and removed at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Attempt, Course, Group, Learner, Tag
from integrations.models import Integration, SyncRun
from tests.factories import GroupFactory, IntegrationFactory, group_admin, group_learner

pytestmark = pytest.mark.django_db

BIG = {"courses": 5_000, "learners": 1_000, "attempts_per_learner": 20, "runs": 300}
SMALL = {"courses": 5, "learners": 5, "attempts_per_learner": 1, "runs": 3}
BATCH = 2_000


@dataclass
class World:
    group: Group
    integration: Integration
    hot_course: Course  # the course with the most attempts
    run: SyncRun
    admin: object
    learner: object


def build(tag: str, size: dict[str, int]) -> World:
    group = GroupFactory(name=f"{tag} group", slug=f"{tag}-group")
    integration = IntegrationFactory(group=group, status=Integration.Status.ACTIVE)
    now = timezone.now()
    courses = Course.objects.bulk_create(
        [
            Course(
                integration=integration,
                group=group,
                external_id=f"{tag}-{n}",
                title=f"{tag} course {n}",
                name=f"{tag} course {n}",
                description="<p>Learn things.</p>",
                authors=["Jane Doe", "John Roe"],
                launch_url=f"https://demo.udemy.com/course/{tag}-{n}/",
            )
            for n in range(size["courses"])
        ],
        batch_size=BATCH,
    )
    tags = [Tag.objects.get_or_create(name=name)[0] for name in ("Development", "Business")]
    Course.tags.through.objects.bulk_create(
        [Course.tags.through(course_id=c.pk, tag_id=t.pk) for c in courses for t in tags],
        batch_size=BATCH,
    )
    learners = Learner.objects.bulk_create(
        [Learner(email=f"{tag}-learner-{n}@example.com") for n in range(size["learners"])],
        batch_size=BATCH,
    )
    per = size["attempts_per_learner"]
    Attempt.objects.bulk_create(
        [
            Attempt(
                learner=learner,
                course=courses[k % len(courses)],
                progress=(n * 7 + k) % 101,
                first_activity=now - timedelta(days=(n + k) % 80),
                last_activity=now - timedelta(days=k % 40),
                completed_at=now - timedelta(days=k % 40) if (n + k) % 3 == 0 else None,
                time_spent_ms=60_000 * (k + 1),
            )
            for n, learner in enumerate(learners)
            for k in range(per)
        ],
        batch_size=BATCH,
    )
    runs = SyncRun.objects.bulk_create(
        [
            SyncRun(
                integration=integration,
                kind=SyncRun.Kind.CONTENT if n % 2 else SyncRun.Kind.STATS,
                trigger=SyncRun.Trigger.SCHEDULE,
                scheduled_for=(now - timedelta(days=n)).date(),
                status=SyncRun.Status.SUCCEEDED,
                started_at=now - timedelta(days=n, seconds=90),
                finished_at=now - timedelta(days=n),
                fetched=size["courses"],
            )
            for n in range(size["runs"])
        ]
    )
    child = GroupFactory(
        name=f"{tag} public team", slug=f"{tag}-team", parent=group, is_public=True
    )
    admin = group_admin(group, username=f"{tag}-admin")
    learner = group_learner(child, username=f"{tag}-reader")
    return World(group, integration, courses[0], runs[0], admin, learner)


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker) -> Iterator[tuple[World, World]]:
    with django_db_blocker.unblock():
        small, big = build("small", SMALL), build("big", BIG)
    yield small, big
    with django_db_blocker.unblock():
        users = [w.admin.pk for w in (small, big)] + [w.learner.pk for w in (small, big)]
        Group.objects.filter(slug__in=["small-team", "big-team"]).delete()
        Group.objects.filter(slug__in=["small-group", "big-group"]).delete()
        Learner.objects.filter(email__regex=r"^(small|big)-").delete()
        Learner.objects.filter(user_id__in=users).delete()
        get_user_model().objects.filter(pk__in=users).delete()
        Tag.objects.filter(name__in=("Development", "Business"), courses__isnull=True).delete()


def pages(world: World) -> dict[str, tuple[str, str]]:
    """page name -> (who opens it: admin/learner, URL)."""
    slug = world.group.slug
    return {
        "group catalog": ("admin", reverse("catalog:group_catalog", args=[slug])),
        "group catalog, filtered": (
            "admin",
            reverse("catalog:group_catalog", args=[slug]) + "?tag=Development&q=course",
        ),
        "course dashboard": (
            "admin",
            reverse("catalog:course_dashboard", args=[slug, world.hot_course.pk]),
        ),
        "course dashboard, sorted": (
            "admin",
            reverse("catalog:course_dashboard", args=[slug, world.hot_course.pk])
            + "?sort=-time_spent&page=3",
        ),
        "group dashboard": ("admin", reverse("catalog:group_dashboard", args=[slug])),
        "sync history": ("admin", reverse("integrations:history", args=[slug])),
        "integrations": ("admin", reverse("integrations:settings", args=[slug])),
        "run": ("admin", reverse("integrations:run", args=[slug, world.run.pk])),
        "learner catalog": ("learner", reverse("catalog:learner_catalog") + "?q=course"),
        "API courses": ("admin", reverse("api:courses", args=[slug])),
        "API statistics": ("admin", reverse("api:stats", args=[slug])),
        "API sync runs": ("admin", reverse("api:syncrun-list")),
    }


PAGE_NAMES = [
    "group catalog",
    "group catalog, filtered",
    "course dashboard",
    "course dashboard, sorted",
    "group dashboard",
    "sync history",
    "integrations",
    "run",
    "learner catalog",
    "API courses",
    "API statistics",
    "API sync runs",
]


def queries(world: World, page: str) -> int:
    who, url = pages(world)[page]
    client = Client()
    client.force_login(world.admin if who == "admin" else world.learner)
    client.get(url)  # warm caches (content types, sessions) out of the count
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, HTTP_ACCEPT="text/html,application/json")
    assert response.status_code == 200, (page, response.status_code)
    return len(captured)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGE_NAMES)
def test_a_page_costs_the_same_queries_for_5000_courses_as_for_5(worlds, page):
    small, big = worlds
    assert Course.objects.filter(group=big.group).count() == BIG["courses"]
    assert Attempt.objects.filter(course__group=big.group).count() == 20_000
    few, many = queries(small, page), queries(big, page)
    assert few == many, f"{page}: {few} queries for the small group, {many} for the big one"
