"""An integration with xAPI credentials, its learners and catalog, and a sender for its door."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from catalog.models import Course
from integrations.models import Integration
from integrations.services.xapi_credentials import xapi_credentials_issue
from tests.factories import (
    CourseFactory,
    GroupFactory,
    IntegrationFactory,
    LearnerFactory,
    MembershipFactory,
    group_admin,
)

PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


@dataclass
class Door:
    integration: Integration
    client_id: str
    client_secret: str
    learner: object
    course: Course
    path: Course
    admin: object

    @property
    def statements_url(self) -> str:
        return reverse("xapi:statements", kwargs={"integration_id": self.integration.pk})

    def token(self, client: Client | None = None, **extra) -> str:
        response = token_by_basic(client or Client(), self.client_id, self.client_secret, **extra)
        assert response.status_code == 200, response.content
        return response.json()["access_token"]


def token_by_basic(client: Client, client_id: str, secret: str, **data):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        reverse("xapi:token"),
        {"grant_type": "client_credentials", **data},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def statement(door_or_email, object_id: str, *, verb: str = PROGRESSED, progress=None,
              timestamp: str = "2026-12-07T09:10:00+00:00", sid: str | None = None,
              **extra) -> dict:  # fmt: skip
    email = door_or_email if isinstance(door_or_email, str) else door_or_email.learner.email
    body = {
        "id": sid or str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": f"mailto:{email}"},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": object_id},
        "timestamp": timestamp,
        **extra,
    }
    if progress is not None:
        body["result"] = {"extensions": {CMI5_PROGRESS: progress}}
    return body


def make_door(tag: str) -> Door:
    group = GroupFactory(name=f"{tag} group", slug=f"{tag}-group")
    admin = group_admin(group, username=f"{tag}-admin")
    integration = IntegrationFactory(group=group, status=Integration.Status.ACTIVE,
                                     sync_learning_paths=True)  # fmt: skip
    learner = LearnerFactory(email=f"Ada.{tag}@Example.com")
    MembershipFactory(group=group, learner=learner)
    course = CourseFactory(integration=integration, external_id=f"{5000 + len(tag)}")
    path = CourseFactory(
        integration=integration,
        kind=Course.Kind.LEARNING_PATH,
        external_id="77",
        launch_url=f"https://demo.udemy.com/learning-paths/{tag}/",
    )
    issued = xapi_credentials_issue(integration=integration, actor=admin)
    return Door(integration, issued.client_id, issued.client_secret, learner, course, path, admin)


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    """Cache keys of this test's own: what an earlier test counted (a rate, a debounce) can't
    reach it. Never `cache.clear()`: on Redis the cache shares the broker's database."""
    backend = caches["default"]  # this thread's
    monkeypatch.setattr(backend, "key_prefix", f"{backend.key_prefix}-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def door(db) -> Door:
    return make_door("alpha")


@pytest.fixture
def other_door(db) -> Door:
    return make_door("beta")


def post(client: Client, door: Door, token: str, body, *, version: str | None = "1.0.3", **kw):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if version:
        headers["HTTP_X_EXPERIENCE_API_VERSION"] = version
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(door.statements_url, data, content_type="application/json", **headers, **kw)
