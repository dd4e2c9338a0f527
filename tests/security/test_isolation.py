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
- B's data, its people included, is unchanged at the end.

Then every write of a person's rows (learners, memberships, attempts), wherever it is: the source
is scanned for them (`learner_writes`) and each one must be gone through by an attack below,
acting as group A (the API, the console, a directory import of both platform kinds whose upstream
lists B's people, a statistics sync whose report names them, the admin forms). An attack proves
it reached its writers (a call recorder), and no learner of B changes: fields, activity,
memberships, links, attempts. A new writer no attack goes through fails the test, so it can't go
stale.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Attempt, Course, Learner, Membership
from catalog.selectors import group_subtree_ids
from integrations.models import (
    Integration,
    PlatformConnection,
    PlatformDirectoryLink,
    PlatformRun,
    SyncRun,
)
from tests.factories import LearnerFactory, MembershipFactory

from .learner_writes import calls_recorded, learner_writes, resolve, scan_source
from .routes import Route, discover_routes
from .world import (
    Fill,
    Side,
    api_as,
    build_side,
    call,
    connect_platform,
    emails_of,
    fills,
    give_emails,
    queued_runs_in_process,
    refill,
    spellings,
    url,
)

pytestmark = pytest.mark.django_db

MARK_A, MARK_B = "alpha-marker", "beta-marker"
ADMIN_SITE_KWARGS = {"app_label": "integrations", "content_type_id": "1", "object_id": "1"}
# Console routes a learner may open on their own group's objects (everything else: 404).
LEARNER_ROUTES = {
    "home",
    "catalog:learner_catalog",
    "catalog:course_page",
    "catalog:course_start",
}
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
        # A bearer door's token endpoint answers an anonymous GET 405 and a POST without
        # client credentials 400/401 (RFC 6749 §5.2).
        allowed = (302, 401, 403, 404, *((400, 405) if route.is_bearer else ()))
        assert status in allowed, f"anonymous {method.upper()} {path}: {status}"
        if status == 302:
            assert "login" in response["Location"], f"anonymous {path} → {response['Location']}"


def check_bearer_only(route: Route, a: Side, people: dict[str, Client]) -> None:
    """A door for a machine's OAuth bearer token: a session, even A's admin's, opens nothing
    (401, or 405 for a method the door has not)."""
    for fill in fills(route, a):
        path = url(route, fill)
        for (who, client), method in itertools.product(people.items(), ("get", "post")):
            status = call(client, method, path).status_code
            assert status in (400, 401, 405), f"{who} {method.upper()} {path}: {status}"


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


def people(side: Side) -> tuple:
    """Everything about the learners of the side's subtree: their rows, every membership they
    have (one added in another group too), their links to platforms, their attempts on the
    side's courses."""
    members = Membership.objects.filter(group_id__in=group_subtree_ids(group=side.group))
    learners = Learner.objects.filter(pk__in=members.values("learner")).order_by("pk")
    fields = [f.attname for f in Learner._meta.concrete_fields]
    attempt_fields = [f.attname for f in Attempt._meta.concrete_fields if f.name != "updated_at"]
    return (
        list(learners.values_list(*fields)),
        list(Membership.objects.filter(learner__in=learners).order_by("pk").values_list()),
        list(PlatformDirectoryLink.objects.filter(learner__in=learners).values_list()),
        list(
            Attempt.objects.filter(learner__in=learners, course__group=side.group)
            .order_by("pk")
            .values_list(*attempt_fields)
        ),
    )


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
        people(side),
    )


@pytest.mark.parametrize("route", discover_routes(), ids=str)
def test_no_route_lets_group_a_reach_group_b(route: Route, sides: tuple[Side, Side]):
    a, b = sides
    before = snapshot(b)
    people = {"A's admin": logged_in(a.admin), "A's learner": logged_in(a.learner)}
    check_anonymous(route, a)
    if route.is_public:
        pass
    elif route.is_bearer:
        check_bearer_only(route, a, people)
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


# --------------------------------------------------------------------------- learner writes

FORMER = f"{MARK_B}-former@example.com"  # an inactive learner of B: nothing may reactivate it
OK_RUN = {"succeeded", "partial"}


def attack_api_learner_create(a: Side, b: Side, request: pytest.FixtureRequest) -> None:
    """A's admin creates learners with B's people's e-mails (any case) in A's group and in
    B's; then past the serializer's check, as a lost race would: the service refuses too."""
    client = api_as(a.admin)

    def create(email: str, slug: str):
        body = {"email": email, "first_name": "Mallory", "groups": [slug]}
        return client.post("/api/v1/learners/", body, format="json")

    taken = [spelling for email in emails_of(b) for spelling in spellings(email)]
    for email, slug in itertools.product(taken, (a.group.slug, b.group.slug)):
        assert create(email, slug).status_code == 400, email
    request.getfixturevalue("monkeypatch").setattr(
        "catalog.api.serializers.LearnerCreateSerializer.validate_email",
        lambda self, value: value,
    )
    for email in taken:
        assert create(email, a.group.slug).status_code == 400, email
    assert create(f"new-{MARK_A}@example.com", a.group.slug).status_code == 201


def attack_start(a: Side, b: Side, request: pytest.FixtureRequest) -> None:
    """START as A's people: their own course is recorded, B's is a 404."""
    for user in (a.learner, a.admin):
        client = logged_in(user)
        own = reverse("catalog:course_start", kwargs={"course_id": a.objects["Course"]})
        other = reverse("catalog:course_start", kwargs={"course_id": b.objects["Course"]})
        assert client.post(own).status_code == 302
        assert client.post(other).status_code == 404


def attack_directory_import(kind: str, a: Side, b: Side, request: pytest.FixtureRequest) -> None:
    """A's admin imports the directory of a platform that lists B's people (one disabled,
    other names, other case, members of the platform's groups), then again once they are gone
    from it: conflicts each time, and nobody of B renamed, linked, added or deactivated."""
    commit = queued_runs_in_process(request)
    sandbox = request.getfixturevalue(f"make_{kind}_sandbox")(users=8)
    taken = give_emails(sandbox, emails_of(b))
    connect_platform(PlatformConnection.objects.get(group=a.group), sandbox)
    client = api_as(a.admin)
    for conflicts in (len(taken), 0):
        with commit(execute=True):
            response = client.post(f"/api/v1/groups/{a.group.slug}/platform/import/")
        assert response.status_code == 202, response.json()
        run = PlatformRun.objects.get(pk=response.json()["id"])
        assert run.status in OK_RUN, run.error_summary
        assert run.details["users"].get("conflicts", 0) == conflicts
        sandbox.data.remove_users(taken)  # the second import: gone from the platform
    assert Learner.objects.filter(remote_kind=kind).count() >= 8 - len(taken)  # A's people came


def attack_statistics_sync(a: Side, b: Side, request: pytest.FixtureRequest) -> None:
    """A's admin syncs A's catalog and statistics, and A's Udemy report names B's people."""
    commit = queued_runs_in_process(request)
    sandbox = request.getfixturevalue("udemy_sandbox")
    named = [r for r in sandbox.data.activity if "@" in r["user_email"]]
    taken = [spelling for email in emails_of(b) for spelling in spellings(email)]
    own = emails_of(a)  # A's people too: the writer writes their attempts, and only theirs
    for row, email in zip(named, [*taken, *own], strict=False):
        row["user_email"] = email
    Integration.objects.filter(pk=a.integration.pk).update(client_id=sandbox.client_id)
    client = api_as(a.admin)
    for kind in ("content", "stats"):
        with commit(execute=True):
            response = client.post(
                f"/api/v1/groups/{a.group.slug}/integrations/udemy/sync/", {"kind": kind}, "json"
            )
        assert response.status_code == 202, response.json()
        run = SyncRun.objects.get(pk=response.json()["id"])
        assert run.status in OK_RUN, run.error_summary
    assert run.created > 0  # the writer wrote (A's courses' attempts)


def attack_admin_forms(a: Side, b: Side, request: pytest.FixtureRequest) -> None:
    """A's people post the admin site's learner, group (membership inline) and attempt forms
    at B's rows: the admin site sends them to its login page."""
    learner = Learner.objects.filter(memberships__group=b.group).first()
    attempt = Attempt.objects.filter(course__group=b.group).first()
    membership = {"memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0"}
    forms = [
        ("admin:catalog_learner_add", [], {"email": f"x-{MARK_A}@example.com"}),
        ("admin:catalog_learner_change", [learner.pk], {"email": learner.email, "first_name": "M"}),
        ("admin:catalog_learner_delete", [learner.pk], {"post": "yes"}),
        ("admin:catalog_group_change", [b.group.pk], {**membership, "memberships-0-role": "admin"}),
        ("admin:catalog_attempt_change", [attempt.pk], {"progress": "100", "number": "1"}),
        ("admin:catalog_attempt_delete", [attempt.pk], {"post": "yes"}),
    ]
    for user, (name, args, data) in itertools.product((a.admin, a.learner), forms):
        response = logged_in(user).post(reverse(name, args=args), data)
        assert response.status_code == 302, f"{name}: {response.status_code}"
        assert response["Location"].startswith(reverse("admin:login")), name


@dataclass(frozen=True)
class Attack:
    """One way of writing learners, driven as group A; `writers` are the places found by
    `learner_writes` it goes through (a function must be seen called, else it proved nothing)."""

    run: Callable[[Side, Side, pytest.FixtureRequest], None]
    writers: tuple[str, ...]


DIRECTORY_WRITERS = (
    "integrations.platforms.directory.users:_apply_users",
    "integrations.platforms.directory.memberships:_sync_group_members",
    "integrations.platforms.directory.memberships:deactivate_missing",
)
ATTACKS = {
    "api-learner-create": Attack(attack_api_learner_create, ("catalog.services:learner_create",)),
    "console-start": Attack(attack_start, ("catalog.services:attempt_launch",)),
    "import-learnupon": Attack(
        lambda a, b, request: attack_directory_import("learnupon", a, b, request),
        DIRECTORY_WRITERS,
    ),
    "import-coursebase": Attack(
        lambda a, b, request: attack_directory_import("coursebase", a, b, request),
        DIRECTORY_WRITERS,
    ),
    "statistics-sync": Attack(
        attack_statistics_sync, ("integrations.services.attempts:attempts_apply",)
    ),
    "admin-forms": Attack(
        attack_admin_forms,
        (
            "catalog.admin:LearnerAdmin",
            "catalog.admin:MembershipInline",
            "catalog.admin:AttemptAdmin",
        ),
    ),
}
# Writers no group's people can reach, and why.
NOT_ATTACKABLE = {
    "integrations.management.commands.seed_demo:Command.handle": (
        "manage.py seed_demo, the operator's demo setup (the write is a user account's e-mail)"
    ),
    "integrations.management.commands.seed_demo:Command._learner": (
        "manage.py seed_demo, the operator's demo setup"
    ),
}


def test_every_learner_write_is_attacked():
    found: dict[str, object] = {}
    for write in learner_writes():
        found.setdefault(write.where, write)
    attacked = {writer for attack in ATTACKS.values() for writer in attack.writers}
    new = sorted(set(found) - attacked - set(NOT_ATTACKABLE))
    assert not new, (
        "code that writes learners, memberships or attempts, and no attack of test_isolation "
        f"goes through it: {'; '.join(str(found[w]) for w in new)}. Add an Attack acting as "
        "group A through it to ATTACKS (or, if no group's people can reach it, a reason to "
        "NOT_ATTACKABLE)."
    )
    stale = sorted((attacked | set(NOT_ATTACKABLE)) - set(found))
    assert not stale, f"no longer write learners (renamed or gone? update ATTACKS): {stale}"


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_no_learner_write_lets_group_a_touch_group_b(name: str, sides, request, settings):
    settings.LEARNUPON_THROTTLE_MAX_WAIT = 0.2
    a, b = sides
    MembershipFactory(group=b.group, learner=LearnerFactory(email=FORMER, is_active=False))
    attack, before = ATTACKS[name], people(b)
    with calls_recorded() as called:
        attack.run(a, b, request)
    functions = [w for w in attack.writers if inspect.isfunction(resolve(w))]  # not classes
    missed = [w for w in functions if w not in called]
    assert not missed, f"{name} never went through {missed}: it proves nothing about them"
    assert people(b) == before, f"{name}: group B's people changed"


SHAPES = """
from catalog.models import Learner as Person, Course
def alias(): Person.objects.filter(pk=1).update(is_active=False)
def related(user): user.learner.save()
def manager(group): group.memberships.all().delete()
def cascade(): Course.objects.filter(pk=1).delete()
def named(learner): learner.save()
def raw(cursor): cursor.execute("UPDATE catalog_learner SET is_active = false")
def outer():
    def inner(): Membership.objects.create(group_id=1, learner_id=1)
class PersonForm(ModelForm):
    class Meta:
        model = Person
def reads(options): return list(Person.objects.filter(is_active=True)), options.update(a=1)
def other_rows(run): run.save()
"""


def test_the_scan_sees_every_shape_of_learner_write():
    """The scan itself can fail: each shape of write is found, in the function that holds it,
    named as Python names it (what the call recorder sees); reads are not writes."""
    assert {write.where for write in scan_source("m", SHAPES)} == {
        "m:alias",
        "m:related",
        "m:manager",
        "m:cascade",
        "m:named",
        "m:raw",
        "m:outer.<locals>.inner",
        "m:PersonForm",
    }
