"""The world the route-walking tests attack: a group with its people and one object of each
kind a URL can name, plus how to fill a route's arguments with them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from django.test import Client
from django.urls import reverse

from integrations.core.registry import PROVIDERS
from integrations.models import Integration, PlatformConnection, PlatformRun, SyncError, SyncRun
from lmsbridge.catalog.models import Group
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    GroupFactory,
    IntegrationFactory,
    SyncRunFactory,
    group_admin,
    group_learner,
)

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
