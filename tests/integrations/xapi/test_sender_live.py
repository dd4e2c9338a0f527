"""Promise, end to end: the Udemy sandbox's sender, over real HTTP to a live server, with a real
Celery worker applying (on PostgreSQL + Redis when DATABASE_URL / REDIS_URL name them, else the
embedded SQLite and file broker): statements sent are stored, applied, and the learners'
figures for courses and learning paths are in the statistics API and its CSV; duplicates change
nothing; late statements do not move progress backwards; a token revoked mid-way is renewed."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken

from catalog.models import Attempt, Course
from integrations.models import Integration, XapiStatement
from integrations.sandboxes.udemy import UdemyData
from integrations.sandboxes.udemy.xapi_feed import LearnerFeed
from integrations.sandboxes.udemy.xapi_sender import XapiSender, XapiTarget
from integrations.services.xapi_credentials import xapi_credentials_issue
from integrations.tasks.xapi import xapi_apply
from tests.factories import (
    CourseFactory,
    GroupFactory,
    IntegrationFactory,
    LearnerFactory,
    MembershipFactory,
    group_admin,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]

START = datetime(2026, 12, 7, 9, tzinfo=UTC)


def wire(data: UdemyData):
    """The product's side of the sandbox organization: its learners, courses and paths."""
    group = GroupFactory(name="Live group", slug="live-group")
    admin = group_admin(group, username="live-admin")
    integration = IntegrationFactory(group=group, status=Integration.Status.ACTIVE,
                                     sync_learning_paths=True)  # fmt: skip
    for email in data.learner_emails:
        MembershipFactory(group=group, learner=LearnerFactory(email=email))
    for course in data.courses:
        CourseFactory(integration=integration, external_id=str(course["id"]),
                      launch_url=course["url"], title=course["title"])  # fmt: skip
    for path in data.learning_paths:
        CourseFactory(integration=integration, kind=Course.Kind.LEARNING_PATH,
                      external_id=str(path["id"]), launch_url=path["url"])  # fmt: skip
    return group, admin, integration


class ToQueue:
    def __init__(self, queue: str) -> None:
        self.queue = queue

    def apply_async(self, args, countdown=0):
        xapi_apply.apply_async(args, countdown=countdown, queue=self.queue)


def wait_applied(expected: int, log) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        states = XapiStatement.objects.values_list("state", flat=True)
        if len(states) == expected and set(states) == {XapiStatement.State.APPLIED}:
            return
        time.sleep(0.3)
    states = list(XapiStatement.objects.values_list("state", "reason"))
    raise AssertionError(f"{len(states)} stored, not all applied: {states[:5]}\n{log()[-2000:]}")


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_sender_feeds_the_statistics_through_a_live_server_and_a_worker(
    live_server, celery_worker_process, worker_queue, monkeypatch
):
    # The door's own debounced queueing, sent to this test's queue.
    monkeypatch.setattr("integrations.tasks.xapi.xapi_apply", ToQueue(worker_queue))
    data = UdemyData.generate(seed=5, courses=15, paths=2, learners=6, activity_per_learner=3,
                                today=date(2026, 12, 1))  # fmt: skip
    group, admin, integration = wire(data)
    issued = xapi_credentials_issue(integration=integration, actor=admin)
    target = XapiTarget(
        token_url=f"{live_server.url}/xapi/oauth/token/",
        statements_url=f"{live_server.url}/xapi/integrations/{integration.pk}/statements",
        client_id=issued.client_id,
        client_secret=issued.client_secret,
    )
    sender = XapiSender(target)
    feed = LearnerFeed(data)

    sent_ids: set[str] = set()
    for i in range(12):
        batch = feed.advance(8, START + timedelta(minutes=i))
        sent_ids |= set(sender.send(batch))
        if i == 5:  # the token is revoked mid-way: the sender asks for a new one
            AccessToken.objects.all().delete()
    late = feed.out_of_order(6)
    sent_ids |= set(sender.send(late))
    dupes = feed.duplicates(20)
    assert set(sender.send(dupes)) <= sent_ids  # the same ids, accepted again
    assert sender.counts.tokens == 2 and sender.counts.refused == 0

    wait_applied(len(sent_ids), lambda: celery_worker_process.log_path.read_text())
    assert XapiStatement.objects.count() == len(sent_ids)  # duplicates stored once

    # Every pair the feed told has the figures of its last statement, late ones notwithstanding.
    told = [p for p in feed.pairs if p.started]
    assert any(p.kind == "learning_path" for p in told) and any(p.done for p in told)
    for pair in told:
        attempt = Attempt.objects.get(
            learner__email=pair.email, course__launch_url=pair.object_id, number=1
        )
        assert attempt.progress == pytest.approx(pair.progress), pair
        assert (attempt.completed_at is not None) == pair.done, pair

    # Visible in the statistics API and its CSV, learning paths included ("path-<id>").
    api = Client()
    api.force_login(admin)
    rows = []
    url = f"/api/v1/groups/{group.slug}/stats/?page_size=500"
    body = api.get(url).json()
    rows = body["results"]
    assert body["count"] == len(told)
    paths = [r for r in rows if r["externalCourseId"].startswith("path-")]
    assert paths and all(r["timeSpentInMilliseconds"] == 0 for r in paths)
    exported = list(csv.DictReader(io.StringIO(
        b"".join(api.get(f"/api/v1/groups/{group.slug}/stats/?format=csv").streaming_content)
        .decode("utf-8-sig"))))  # fmt: skip
    assert len(exported) == len(told)
    done_paths = {(p.email, f"path-{p.object_id.rstrip('/').rsplit('/', 1)[-1]}")
                  for p in told if p.kind == "learning_path" and p.done}  # fmt: skip
    for row in exported:
        if (row["learnerMail"].lower(), row["externalCourseId"]) in done_paths:
            assert float(row["progress"]) == 100 and row["completedAt"]
