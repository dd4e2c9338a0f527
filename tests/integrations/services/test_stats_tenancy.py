"""Promise (isolation, statistics): a statistics report matches only the learners who see the
integration's catalog — its group and its public subgroups, the rule of the learner catalog
(360Learning: "If the target group has public children groups, learners in public subgroups can
access the content in the catalog of the target group"; "If you choose the platform group, all
users ... can see the content"). A row naming anyone else is unmatched, counted apart as
"outside this group", and nothing of it is stored: no attempt on this group's courses for
another tenant's people, and their e-mails never reach this group's statistics API."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Attempt, Group, Learner, Membership
from catalog.selectors import catalog_audience_group_ids, catalog_group_ids_for_user
from integrations.models import PendingStatistic, SyncRun
from integrations.services.stats_sync import OUTSIDE_WARNING
from tests.factories import GroupFactory, LearnerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REPORT = {"courses": 30, "paths": 0, "learners": 12, "activity_per_learner": 25}


def _person(email: str, group: Group | None, role=Membership.Role.LEARNER) -> Learner:
    learner = LearnerFactory(email=email, user=UserFactory(username=email.split("@")[0]))
    if group is not None:
        MembershipFactory(group=group, learner=learner, role=role)
    return learner


@pytest.fixture
def tenants():
    """Target (the integration's group) with a public and a private subgroup; beta-corp (another
    tenant, with its admin and learner); sales-team, a public group under the platform group."""
    platform = Group.objects.get(is_platform=True)  # made by a migration
    target = GroupFactory(name="Target", slug="target", parent=platform)
    public = GroupFactory(name="Field", slug="field", parent=target, is_public=True)
    deep = GroupFactory(name="Field east", slug="field-east", parent=public, is_public=True)
    private = GroupFactory(name="Board", slug="board", parent=target, is_public=False)
    beta = GroupFactory(name="Beta Corp", slug="beta-corp", parent=platform)
    sales = GroupFactory(name="Sales team", slug="sales-team", parent=platform, is_public=True)
    return {
        "groups": {"platform": platform, "target": target, "beta": beta, "sales": sales},
        "inside": [
            _person("target-admin@example.com", target, Membership.Role.ADMIN),
            _person("target-learner@example.com", target),
            _person("field@example.com", public),
            _person("field-east@example.com", deep),
        ],
        "outside": [
            _person("board@example.com", private),  # a private subgroup: not its catalog
            _person("beta-admin@example.com", beta, Membership.Role.ADMIN),
            _person("beta-learner@example.com", beta),
            _person("sales@example.com", sales),
            _person("nobody@example.com", None),  # in no group: sees no catalog
        ],
    }


def _report_names(sandbox, emails: list[str]) -> dict[str, int]:
    """The report's named rows take `emails` (other case) in turn (every row of a learner and
    course stays one pair: rows of one e-mail are for distinct courses); returns how many rows
    name each e-mail."""
    named = [r for r in sandbox.data.activity if "@" in r["user_email"]]
    rows: dict[str, int] = {}
    seen: set[tuple[str, object]] = set()
    for i, row in enumerate(named):
        email = emails[i % len(emails)]
        if (email, row["course_id"]) in seen:
            email = emails[-1]  # the unknown one takes the rest
        seen.add((email, row["course_id"]))
        row["user_email"] = email.upper()
        rows[email] = rows.get(email, 0) + 1
    return rows


def _stats(make_udemy_sandbox, make_integration, run_sync, group, emails, **settings_kw):
    sandbox = make_udemy_sandbox(**REPORT)
    integration = make_integration(sandbox, group=group)
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    rows = _report_names(sandbox, emails)
    run = run_sync(integration, "stats")
    assert run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), run.error_summary
    return integration, run, rows


def _attempted(integration) -> set[str]:
    return set(
        Attempt.objects.filter(course__integration=integration)
        .values_list("learner__email", flat=True)
        .distinct()
    )


def _outside_count(run: SyncRun) -> int:
    warning = next((w for w in run.warnings if w["code"] == OUTSIDE_WARNING), {})
    return warning.get("count", 0)


def _check_scoped(integration, run, rows, tenants, unknown: str) -> None:
    inside = {learner.email for learner in tenants["inside"]}
    outside = {learner.email for learner in tenants["outside"]}
    assert _attempted(integration) == inside
    assert not Attempt.objects.filter(learner__email__in=outside).exists()
    assert not PendingStatistic.objects.filter(email__in=outside).exists()
    assert _outside_count(run) == sum(rows[e] for e in outside)
    assert run.unmatched_learners == sum(rows[e] for e in outside) + rows[unknown]
    assert set(run.unmatched_emails) == outside | {unknown}  # listed alike: no oracle per e-mail


def test_a_report_naming_other_tenants_people_writes_nothing_for_them(
    tenants, make_udemy_sandbox, make_integration, run_sync
):
    everyone = [*tenants["inside"], *tenants["outside"]]
    unknown = "stranger@example.com"
    integration, run, rows = _stats(
        make_udemy_sandbox, make_integration, run_sync, tenants["groups"]["target"],
        [*(p.email for p in everyone), unknown],
    )  # fmt: skip
    _check_scoped(integration, run, rows, tenants, unknown)

    # The target's admin reads its statistics: none of the others' e-mails is in them.
    client = APIClient()
    admin = tenants["inside"][0].user
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")
    response = client.get("/api/v1/groups/target/stats/?format=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode().lower()
    assert "target-learner@example.com" in body
    assert not [p.email for p in tenants["outside"] if p.email in body]


def test_a_split_report_matches_the_same_learners(
    tenants, make_udemy_sandbox, make_integration, run_sync, settings
):
    """The ranges of a split report (`stats_split`) look learners up on their own: same rule."""
    settings.STATS_SPLIT_PAGES, settings.STATS_SPLIT_WORKERS = 1, 0
    everyone = [*tenants["inside"], *tenants["outside"]]
    unknown = "stranger@example.com"
    integration, run, rows = _stats(
        make_udemy_sandbox, make_integration, run_sync, tenants["groups"]["target"],
        [*(p.email for p in everyone), unknown],
    )  # fmt: skip
    assert run.ranges.count() > 1
    _check_scoped(integration, run, rows, tenants, unknown)


def test_the_platform_groups_report_matches_every_learner(
    tenants, make_udemy_sandbox, make_integration, run_sync
):
    everyone = [*tenants["inside"], *tenants["outside"]]
    integration, run, _ = _stats(
        make_udemy_sandbox, make_integration, run_sync, tenants["groups"]["platform"],
        [p.email for p in everyone],
    )  # fmt: skip
    assert _attempted(integration) == {p.email for p in everyone}
    assert _outside_count(run) == 0


def test_kept_statistics_of_an_outside_learner_are_never_applied(
    tenants, make_udemy_sandbox, make_integration, run_sync
):
    """A row kept for a course not in the catalog yet, stored before this rule: when its
    course arrives, the row of a learner outside the group is not applied."""
    sandbox = make_udemy_sandbox(**REPORT)
    integration = make_integration(sandbox, group=tenants["groups"]["target"])
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    course = integration.courses.first()
    for email in ("beta-learner@example.com", "target-learner@example.com"):
        PendingStatistic.objects.create(
            integration=integration, external_course_id=course.external_id, email=email,
            payload={"external_course_id": course.external_id, "email": email,
                     "email_key": email, "is_anonymized": False, "progress": 50.0,
                     "time_spent_ms": 60_000, "first_activity": None, "last_activity": None,
                     "completed_at": None},
        )  # fmt: skip
    from integrations.services.stats_pending import pending_apply

    assert pending_apply(run=SyncRun.objects.create(integration=integration, kind="stats")) == 1
    assert set(Attempt.objects.filter(course=course).values_list("learner__email", flat=True)) == {
        "target-learner@example.com"
    }


def test_the_audience_is_the_learner_catalog_rule_read_the_other_way(tenants):
    """For every group and every person: the group is in the catalogs the person sees exactly
    when one of their groups is in the group's audience (the platform group: everyone)."""
    people = [*tenants["inside"], *tenants["outside"]]
    for group in Group.objects.all():
        audience = catalog_audience_group_ids(group=group)
        for person in people:
            sees = group.pk in catalog_group_ids_for_user(user=person.user)
            theirs = set(person.memberships.values_list("group_id", flat=True))
            if audience is None:
                assert group.is_platform
                continue
            assert sees == bool(theirs & audience), (group.slug, person.email)
