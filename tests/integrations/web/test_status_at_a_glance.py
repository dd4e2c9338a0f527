"""Status at a glance: the integration page's health strip (last run of each kind with its
status and age, running now, consecutive failures, who deactivated it), the home page's group
tree with each group's status, and the audit trail in words, paged, runs linked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import AuditEntry, Integration, PlatformConnection, SyncRun
from tests.factories import GroupFactory, IntegrationFactory, MembershipFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def page(client, group) -> str:
    return client.get(reverse("integrations:provider", args=[group.slug, "udemy"])).content.decode()


def test_health_strip_shows_last_runs_their_age_and_what_runs_now(admin_client, group, integration):
    done = timezone.now() - timedelta(hours=3)
    last = SyncRunFactory(
        integration=integration, kind="content", status=SyncRun.Status.PARTIAL, finished_at=done
    )
    running = SyncRunFactory(integration=integration, kind="stats", status=SyncRun.Status.RUNNING)
    html = page(admin_client, group)
    strip = html[html.index('data-testid="health"') :]
    assert f"#{last.pk}" in strip and "Partial" in strip
    assert re.search(r'data-testid="last-run-age">3\xa0hours ago<', strip)
    assert 'data-testid="running-now"' in strip and f"#{running.pk}" in strip


def test_health_strip_counts_consecutive_failures(admin_client, group, integration):
    now = timezone.now()
    for minutes in (30, 20, 10):
        SyncRunFactory(
            integration=integration, status=SyncRun.Status.FAILED,
            finished_at=now - timedelta(minutes=minutes),
        )  # fmt: skip
    assert "3 runs failed in a row." in page(admin_client, group)


def test_a_deactivated_integration_says_who_and_when(admin_client, group, integration, admin_user):
    integration.activated_at = timezone.now() - timedelta(days=3)
    integration.owner = admin_user
    integration.status = Integration.Status.INACTIVE
    integration.save()
    AuditEntry.objects.create(integration=integration, actor=admin_user, action="deactivate")
    html = page(admin_client, group)
    line = re.search(r'data-testid="activation">(.*?)</p>', html, re.S).group(1)
    assert "Deactivated" in line and "by alice" in line and "Activated" not in line


def test_home_lists_the_group_tree_with_statuses(client, django_assert_max_num_queries):
    root = GroupFactory(name="Academy")
    sales = GroupFactory(name="Sales", parent=root)
    emea = GroupFactory(name="EMEA", parent=sales)
    other = GroupFactory(name="Support")
    from tests.factories import group_admin

    user = group_admin(root, username="root-admin")
    learner = user.learner
    for g in (sales, emea, other):
        MembershipFactory(group=g, learner=learner, role="admin")
    IntegrationFactory(group=sales, status=Integration.Status.ERROR)
    PlatformConnection.objects.create(group=root, kind="learnupon")
    client.force_login(user)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("home")).content.decode()
    rows = re.findall(
        r'data-depth="(\d)">.*?data-testid="group-name">(.*?)</span>(.*?)</a>', html, re.S
    )
    names = [(int(depth), name) for depth, name, _ in rows]
    assert names == [(0, "Academy"), (1, "Sales"), (2, "EMEA"), (0, "Support")]
    statuses = {name: rest for (_, name), (_, _, rest) in zip(names, rows, strict=True)}
    assert "Error" in statuses["Sales"]
    assert "no Udemy integration" in statuses["Academy"] and "LearnUpon" in statuses["Academy"]


@pytest.mark.parametrize(
    ("action", "fields", "toggles", "detail", "words"),
    [
        ("update", ["sync_tags"], {"sync_tags": False}, "", "Turned tags synchronization off"),
        ("update", ["sync_learning_paths"], {"sync_learning_paths": True}, "",
         "Turned learning paths synchronization on"),
        ("update", ["client_id", "client_secret"], {}, "",
         "Changed the client ID, the client secret"),
        ("activate", [], {}, "", "Set the integration up"),
        ("activation_failed", [], {}, "",
         "Tried to set the integration up: the credentials were refused"),
        ("credentials_refused", [], {}, "", "Tried to save credentials that were refused"),
        ("deactivate", [], {}, "", "Deactivated the integration"),
        ("sync_content", [], {}, "run 7", "Asked for a content sync"),
        ("sync_stats", [], {}, "run 8", "Asked for a statistics sync"),
    ],
)  # fmt: skip
def test_the_audit_trail_reads_in_words(
    admin_client, group, integration, admin_user, action, fields, toggles, detail, words
):
    AuditEntry.objects.create(
        integration=integration, actor=admin_user, action=action, fields=fields,
        toggles=toggles, detail=detail,
    )  # fmt: skip
    html = page(admin_client, group)
    trail = html[html.index('data-testid="audit-trail"') :]
    assert words in trail
    assert f"<code>{action}</code>" not in trail


def test_the_audit_links_the_runs_it_started_and_is_paged(admin_client, group, integration):
    run = SyncRunFactory(integration=integration)
    AuditEntry.objects.create(
        integration=integration, action="sync_content", detail=f"run {run.pk}"
    )
    for _ in range(12):
        AuditEntry.objects.create(integration=integration, action="update", fields=["client_id"])
    html = page(admin_client, group)
    assert html.count('data-action="update"') == 10  # page 1: the ten newest
    assert "audit_page=2" in html
    second = admin_client.get(
        reverse("integrations:provider", args=[group.slug, "udemy"]), {"audit_page": 2}
    ).content.decode()
    link = reverse("integrations:run", args=[group.slug, run.pk])
    assert f'href="{link}">run #{run.pk}</a>' in second


def test_saving_a_toggle_records_its_new_value(admin_client, group, integration):
    url = reverse("integrations:provider", args=[group.slug, "udemy"])
    data = {
        "client_id": integration.client_id, "client_secret": "",
        "organization_name": integration.organization_name,
        "organization_id": integration.organization_id, "api_base_url": integration.api_base_url,
        "sync_tags": "on", "action": "save",
    }  # fmt: skip
    admin_client.post(url, data)
    entry = AuditEntry.objects.filter(integration=integration, action="update").latest("id")
    assert entry.toggles == {"sync_tags": True}
    assert "Turned tags synchronization on" in page(admin_client, group)
