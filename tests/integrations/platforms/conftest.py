"""Fixtures of the platform connector tests: loopback LearnUpon/Coursebase sandboxes (real
sockets), connections pointing at them, and an in-process runner for platform runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from integrations.models import PlatformConnection, PlatformRun
from integrations.sandboxes.coursebase import CoursebaseSandbox
from integrations.sandboxes.learnupon import LearnUponData, LearnUponSandbox
from integrations.services.platform_runs import RUN_PLATFORM_TASK
from integrations.services.platforms import platform_run_execute
from tests.factories import GroupFactory
from tests.run_messages import catch_run_messages

LU_SECRET = "lu-Pa55word-Never-Shown"
CB_SECRET = "cb-T0ken-Never-Shown"
SECRETS = (LU_SECRET, CB_SECRET)


def assert_no_secret(content: bytes | str) -> None:
    text = content.encode() if isinstance(content, str) else content
    for secret in SECRETS:
        assert secret.encode() not in text, f"secret {secret!r} leaked"


@pytest.fixture(autouse=True)
def _fast_throttle(settings) -> None:
    """Real sleeps, but short: a low remaining-minute header waits at most 0.2 s in tests."""
    settings.LEARNUPON_THROTTLE_MAX_WAIT = 0.2
    settings.PLATFORM_RETRY_AFTER_CAP = 5.0


def _started(sandbox_class, **defaults: Any) -> Iterator[Callable[..., Any]]:
    """A factory of started sandboxes of `sandbox_class` (options of its `generate`, over
    `defaults`), all stopped when the test ends."""
    started: list[Any] = []

    def factory(**options: Any) -> Any:
        sandbox = sandbox_class.generate(**{**defaults, **options})
        started.append(sandbox.start())
        return sandbox

    yield factory
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def make_learnupon_sandbox() -> Iterator[Callable[..., LearnUponSandbox]]:
    """`make_learnupon_sandbox(users=..., groups=..., page_size=...)`, started."""
    yield from _started(LearnUponSandbox, password=LU_SECRET)


@pytest.fixture
def learnupon_sandbox(make_learnupon_sandbox) -> LearnUponSandbox:
    """A started LearnUpon sandbox: 60 learners in 4 groups, an admin (id 1)."""
    return make_learnupon_sandbox()


@pytest.fixture
def make_coursebase_sandbox() -> Iterator[Callable[..., CoursebaseSandbox]]:
    """`make_coursebase_sandbox(users=..., departments=..., teams=...)`, started."""
    yield from _started(CoursebaseSandbox, token=CB_SECRET)


@pytest.fixture
def coursebase_sandbox(make_coursebase_sandbox) -> CoursebaseSandbox:
    """A started Coursebase sandbox: a 3-level tree (org → 3 departments → 2 teams each)."""
    return make_coursebase_sandbox()


@pytest.fixture
def make_connection() -> Callable[..., PlatformConnection]:
    """A tested (active) connection of a new group (or `group=`) to a sandbox."""

    def make(sandbox, **kwargs: Any) -> PlatformConnection:
        group = kwargs.pop("group", None) or GroupFactory()
        if isinstance(sandbox, LearnUponSandbox):
            values = {
                "kind": "learnupon",
                "learnupon_portal": sandbox.data.portal,
                "learnupon_username": sandbox.username,
                "learnupon_password": sandbox.password,
                "learnupon_owner_id": str(LearnUponData.ADMIN_ID),
                "target_group_id": str(sandbox.data.groups[0]["id"]),
                "learnupon_cataloged": True,  # the admin's explicit choice
            }
        else:
            values = {
                "kind": "coursebase",
                "coursebase_domain": sandbox.domain,
                "coursebase_token": sandbox.token,
            }
        values.update(base_url=sandbox.api_base_url, status=PlatformConnection.Status.ACTIVE)
        values.update(kwargs)
        return PlatformConnection.objects.create(group=group, **values)

    return make


@pytest.fixture
def run_platform() -> Callable[..., PlatformRun]:
    """Execute one run in this process, as the task does, and return the finished run."""

    def run(connection: PlatformConnection, kind: str = "directory", **kwargs: Any) -> PlatformRun:
        created = PlatformRun.objects.create(
            connection=connection, kind=kind, trigger=PlatformRun.Trigger.MANUAL, **kwargs
        )
        platform_run_execute(run_id=created.pk)
        created.refresh_from_db()
        return created

    return run


@pytest.fixture
def record_platform_enqueue(monkeypatch) -> list[int]:
    """Record the platform runs sent to the broker instead of sending them (no broker)."""
    enqueued: list[int] = []
    catch_run_messages(monkeypatch, RUN_PLATFORM_TASK, enqueued.append)
    return enqueued


# --------------------------------------------------------------------------- pages and API


@pytest.fixture
def group_a():
    return GroupFactory(name="Acme Academy", slug="acme-academy")


@pytest.fixture
def group_b():
    return GroupFactory(name="Beta Corp", slug="beta-corp")


@pytest.fixture
def admin_a(group_a):
    from tests.factories import group_admin

    return group_admin(group_a, username="alice")


@pytest.fixture
def admin_b(group_b):
    from tests.factories import group_admin

    return group_admin(group_b, username="bob")


@pytest.fixture
def learner_a(group_a):
    from tests.factories import group_learner

    return group_learner(group_a, username="leo")


class ScanningMixin:
    """Fails the test when any response body carries a platform secret."""

    def request(self, **kwargs):
        response = super().request(**kwargs)
        assert_no_secret(response.content)
        return response


@pytest.fixture
def page_client_for():
    from django.test import Client

    class ScanningClient(ScanningMixin, Client):
        pass

    def make(user) -> Client:
        client = ScanningClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def api_for():
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    class ScanningAPIClient(ScanningMixin, APIClient):
        pass

    def make(user) -> APIClient:
        client = ScanningAPIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
