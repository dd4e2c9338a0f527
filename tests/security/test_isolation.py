"""Promise (Secrets and access): "an admin of group A gets 404 on every page and API object of
group B. Learners never see settings."

ONE test, parametrized over every named route the resolver knows (`routes.discover_routes`), so
a route added later is walked without anyone editing this file. For each route:

- anonymous users are refused (login redirect, 401/403) unless the route is in PUBLIC_ROUTES;
- Django admin pages are never served to the non-staff users below;
- a route with URL arguments is first opened as A's admin with A's objects (a control: it must
  *not* be 404, else the test does not know how to fill the route and says so); then A's admin
  and A's learner try B's objects (and A's slug with B's ids) with every method: 404, or the
  very answer A's own object gets (405/403 refusals that don't depend on the object);
- learners get 404 on A's console pages too (settings, runs, catalog admin, dashboards);
- every page or list A's people *can* read holds no trace of B (marked "beta-marker");
- B's data is unchanged at the end.
"""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Integration, PlatformConnection, PlatformRun, SyncRun
from lmsbridge.catalog.models import Course

from .routes import Route, discover_routes
from .world import Fill, Side, build_side, call, fills, refill, url

pytestmark = pytest.mark.django_db

MARK_A, MARK_B = "alpha-marker", "beta-marker"
ADMIN_SITE_KWARGS = {"app_label": "integrations", "content_type_id": "1", "object_id": "1"}
# Console routes a learner may open on their own group's objects (everything else: 404).
LEARNER_ROUTES = {"home", "catalog:learner_catalog", "catalog:course_start"}
API_METHODS = ("get", "post", "put", "patch", "delete")
CONSOLE_METHODS = ("get", "post")
REFUSALS = {401, 403, 405}  # answers that must then be the same for the user's own object


@pytest.fixture
def sides(udemy_sandbox, no_internet, settings) -> tuple[Side, Side]:
    settings.UDEMY_MAX_RETRIES = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_side(MARK_A, 7000, udemy_sandbox), build_side(MARK_B, 8000, udemy_sandbox)


def text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_no_trace_of_b(response, who: str, path: str) -> None:
    if response.status_code == 200:
        assert MARK_B not in text(response).lower(), f"{who} sees group B's data on {path}"


# --------------------------------------------------------------------------- the checks


def check_anonymous(route: Route, a: Side) -> None:
    if route.is_public:
        return
    fill = next(fills(route, a), {}) if not route.is_admin_site else {}
    kwargs = {k: ADMIN_SITE_KWARGS.get(k, "1") for k in route.kwargs} if route.is_admin_site else {}
    path = reverse(route.name, kwargs=kwargs) if route.is_admin_site else url(route, fill)
    for method in ("get", "post"):
        response = call(Client(), method, path)
        status = response.status_code
        assert status in (302, 401, 403, 404), f"anonymous {method.upper()} {path}: {status}"
        if status == 302:
            assert "login" in response["Location"], f"anonymous {path} → {response['Location']}"


def check_admin_site(route: Route, people: dict[str, Client]) -> None:
    path = reverse(route.name, kwargs={k: ADMIN_SITE_KWARGS.get(k, "1") for k in route.kwargs})
    for who, client in people.items():
        response = client.get(path)
        status = response.status_code
        assert status in (302, 403, 404), f"{who} GET {path}: {status}"
        if status == 302:
            assert reverse("admin:login") in response["Location"], f"{who} {path}"


def check_lists(route: Route, people: dict[str, Client]) -> None:
    path = reverse(route.name)
    for who, client in people.items():
        response = client.get(path)
        assert response.status_code < 500, f"{who} GET {path}: {response.status_code}"
        assert_no_trace_of_b(response, who, path)


def check_superuser_only(route: Route, a: Side, b: Side, people: dict[str, Client]) -> None:
    """A group's admin and learner get 404 on their own group's objects and on B's alike."""
    for fill in fills(route, a):
        for attack in (fill, refill(fill, b)):
            path = url(route, attack)
            for (who, client), method in itertools.product(people.items(), ("get", "post")):
                status = call(client, method, path).status_code
                assert status in (404, 405), f"{who} {method.upper()} {path}: {status}"


def control_fill(route: Route, a: Side, admin_a: Client) -> Fill:
    """A fill with A's objects that A's admin can open (not 404): the attack reuses its shape."""
    tried = []
    for fill in fills(route, a):
        path = url(route, fill)
        response = call(admin_a, "get", path)
        if response.status_code == 405:
            response = call(admin_a, "post", path)
        tried.append(f"{path} → {response.status_code}")
        if response.status_code != 404:
            assert_no_trace_of_b(response, "A's admin", path)
            return fill
    pytest.fail(
        f"{route.pattern}: A's admin gets 404 with every filling of its arguments "
        f"({'; '.join(tried)}): teach test_isolation how to fill this route"
    )


def check_attacks(route: Route, fill: Fill, a: Side, b: Side, people: dict[str, Client]) -> None:
    attacks = [refill(fill, b)]
    has_ids = any(kind not in ("slug", "literal") for kind, _ in fill.values())
    if "slug" in route.kwargs and has_ids:
        attacks.append(refill(fill, b, keep_slug=a.group.slug))  # B's ids under A's slug
    methods = API_METHODS if route.is_api else CONSOLE_METHODS
    for who, client in people.items():
        for attack, method in itertools.product(attacks, methods):
            path = url(route, attack)
            status = call(client, method, path).status_code
            if status == 404:
                continue
            own = call(client, method, url(route, fill)).status_code
            assert status in REFUSALS and status == own, (
                f"{who} {method.upper()} {path} (group B): {status}, own object: {own}"
            )


def check_learner_sees_no_settings(route: Route, fill: Fill, learner_a: Client) -> None:
    if route.is_api or route.name in LEARNER_ROUTES:
        return
    path = url(route, fill)
    for method in CONSOLE_METHODS:
        status = call(learner_a, method, path).status_code
        assert status in (404, 405), f"A's learner {method.upper()} {path}: {status}"


def snapshot(side: Side) -> tuple:
    integration = Integration.objects.get(pk=side.integration.pk)
    return (
        integration.status,
        integration.client_id,
        integration.client_secret,
        SyncRun.objects.filter(integration=integration).count(),
        list(Course.objects.filter(group=side.group).values_list("id", "status", "title")),
        list(PlatformConnection.objects.filter(group=side.group).values_list("status", "kind")),
        PlatformRun.objects.filter(connection__group=side.group).count(),
    )


@pytest.mark.parametrize("route", discover_routes(), ids=str)
def test_no_route_lets_group_a_reach_group_b(route: Route, sides: tuple[Side, Side]):
    a, b = sides
    before = snapshot(b)
    people = {"A's admin": logged_in(a.admin), "A's learner": logged_in(a.learner)}
    check_anonymous(route, a)
    if route.is_public:
        pass
    elif route.is_admin_site:
        check_admin_site(route, people)
    elif route.is_superuser_only:
        check_superuser_only(route, a, b, people)
    elif not route.kwargs:
        check_lists(route, people)
    else:
        fill = control_fill(route, a, people["A's admin"])
        check_attacks(route, fill, a, b, people)
        check_learner_sees_no_settings(route, fill, people["A's learner"])
    assert snapshot(b) == before, f"{route}: group B's data changed"
