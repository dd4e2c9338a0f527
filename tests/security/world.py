"""The world the isolation tests attack: a group with its people and one object of each kind a
URL can name, how to fill a route's arguments with them, and what the attacks on learner writes
need (an API client, B's people's e-mails, platform sandboxes listing them, queued runs executed
in this process)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Group, Learner
from integrations.connectors.providers import PROVIDERS
from integrations.models import Integration, PlatformConnection, PlatformRun, SyncError, SyncRun
from integrations.sandboxes.coursebase import CoursebaseSandbox
from integrations.sandboxes.learnupon.data import LearnUponData
from integrations.services.platform_execute import platform_run_execute
from integrations.services.platform_runs import RUN_PLATFORM_TASK
from integrations.services.sync import RUN_SYNC_TASK, sync_execute
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    GroupFactory,
    IntegrationFactory,
    SyncRunFactory,
    group_admin,
    group_learner,
)
from tests.run_messages import catch_run_messages

from .routes import Route

# Values for URL arguments that are not objects; anything else is filled with object ids.
LITERALS: dict[str, list[str]] = {
    "provider": list(PROVIDERS),
    "kind": [*SyncRun.Kind.values, *PlatformRun.Kind.values],
}


@dataclass
class Side:
    """One group and its people and objects; `objects` maps a type to the pk of one of them."""

    group: Group
    admin: object
    learner: object
    integration: Integration
    objects: dict[str, int]


def build_side(tag: str, base_pk: int, sandbox) -> Side:
    # Explicit, distinct pks per type: an id of one type never happens to be valid for another.
    group = GroupFactory(name=f"{tag} group", slug=f"{tag}-group")
    admin = group_admin(group, username=f"{tag}-admin")
    learner = group_learner(group, username=f"{tag}-learner")
    integration = IntegrationFactory(
        group=group,
        client_id=f"{tag}-client",
        client_secret=sandbox.client_secret,
        organization_name=sandbox.organization_name,
        organization_id=sandbox.organization_id,
        api_base_url=sandbox.api_base_url,
        status=Integration.Status.ACTIVE,
    )
    run = SyncRunFactory(
        pk=base_pk + 1, integration=integration, status=SyncRun.Status.PARTIAL, failed=1
    )
    SyncError.objects.create(run=run, external_id=f"{tag}-item", category="bad", message=tag)
    course = CourseFactory(pk=base_pk + 2, integration=integration, title=f"{tag} course")
    AttemptFactory(learner=learner.learner, course=course, progress=40)
    connection = PlatformConnection.objects.create(
        group=group,
        kind="learnupon",
        learnupon_portal=tag,
        learnupon_username=f"{tag}-api",
        learnupon_password=f"{tag}-password",
        base_url="http://127.0.0.1:9/api/v1/",
        status=PlatformConnection.Status.ACTIVE,
    )
    platform_run = PlatformRun.objects.create(
        pk=base_pk + 3,
        connection=connection,
        kind=PlatformRun.Kind.PUSH,
        trigger=PlatformRun.Trigger.MANUAL,
        status=PlatformRun.Status.SUCCEEDED,
    )
    objects = {"SyncRun": run.pk, "Course": course.pk, "PlatformRun": platform_run.pk}
    return Side(group, admin, learner, integration, objects)


Fill = dict[str, tuple[str, str]]  # kwarg -> (what it is, value)


def fills(route: Route, side: Side) -> Iterator[Fill]:
    """Every way to fill the route's arguments with `side`'s objects."""
    options = []
    for name in route.kwargs:
        if name == "slug":
            options.append([("slug", side.group.slug)])
        elif name in LITERALS:
            options.append([("literal", value) for value in LITERALS[name]])
        else:
            options.append([(kind, str(pk)) for kind, pk in side.objects.items()])
    for combo in itertools.product(*options):
        yield dict(zip(route.kwargs, combo, strict=True))


def refill(fill: Fill, side: Side, *, keep_slug: str | None = None) -> Fill:
    """The same fill with `side`'s objects (optionally keeping another group's slug)."""
    result = {}
    for name, (kind, value) in fill.items():
        if kind == "slug":
            result[name] = (kind, keep_slug or side.group.slug)
        elif kind == "literal":
            result[name] = (kind, value)
        else:
            result[name] = (kind, str(side.objects[kind]))
    return result


def url(route: Route, fill: Fill) -> str:
    return reverse(route.name, kwargs={name: value for name, (_, value) in fill.items()})


def call(client: Client, method: str, path: str):
    if method == "get":
        return client.get(path)
    if method == "post" and not path.startswith("/api/"):
        return client.post(path, {})
    return client.generic(method.upper(), path, "{}", content_type="application/json")


# --------------------------------------------------------------------------- writing learners


def api_as(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def emails_of(side: Side) -> list[str]:
    return sorted(
        Learner.objects.filter(memberships__group=side.group).values_list("email", flat=True)
    )


def spellings(email: str) -> list[str]:
    return [email, email.upper(), email.capitalize()]  # matching ignores case


def queued_runs_in_process(request: pytest.FixtureRequest):
    """Runs that a request queues execute in this process when its transaction commits;
    returns the context manager that commits (`with commit(execute=True): ...`)."""
    monkeypatch = request.getfixturevalue("monkeypatch")
    catch_run_messages(monkeypatch, RUN_PLATFORM_TASK, lambda pk: platform_run_execute(run_id=pk))
    catch_run_messages(monkeypatch, RUN_SYNC_TASK, lambda pk: sync_execute(run_id=pk))
    return request.getfixturevalue("django_capture_on_commit_callbacks")


def give_emails(sandbox, emails: list[str]) -> list[str]:
    """The first platform users (after the platform's admin) take `emails`, in another case;
    on LearnUpon also another first name, and the first of them is disabled (a deactivation).
    Returns their remote ids."""
    if isinstance(sandbox, CoursebaseSandbox):
        users = sandbox.data.users[1 : 1 + len(emails)]  # the first one is the org's admin
        logins = {u["user_id"]: email.upper() for u, email in zip(users, emails, strict=True)}
        for user in [*sandbox.data.users, *itertools.chain(*sandbox.data.members.values())]:
            user["login_id"] = logins.get(user["user_id"], user["login_id"])
        return list(logins)
    users = [u for u in sandbox.data.users if u["id"] != LearnUponData.ADMIN_ID][: len(emails)]
    for n, (user, email) in enumerate(zip(users, emails, strict=True)):
        user.update(email=email.capitalize(), first_name="Mallory", enabled=n != 0)
    return [user["id"] for user in users]


def connect_platform(connection: PlatformConnection, sandbox) -> None:
    if isinstance(sandbox, CoursebaseSandbox):
        connection.kind = "coursebase"
        connection.coursebase_domain, connection.coursebase_token = sandbox.domain, sandbox.token
    else:
        connection.learnupon_portal = sandbox.data.portal
        connection.learnupon_username = sandbox.username
        connection.learnupon_password = sandbox.password
    connection.base_url = sandbox.api_base_url
    connection.save()
