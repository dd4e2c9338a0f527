"""Trust: a credential change can't break a working integration, Error is a state to recover
from (the schedule keeps running), a passing body fault is retried, a failed stream does not
stop the next one, and the API shows the integration's health."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Course
from integrations.models import AuditEntry, Integration, SyncRun
from integrations.services.setup import integration_save
from integrations.services.sync import sync_request_scheduled
from tests.factories import GroupFactory, group_admin

pytestmark = pytest.mark.django_db

WRONG = "wrong-secret-typed-by-an-admin"


@pytest.fixture
def sandbox(make_udemy_sandbox):
    return make_udemy_sandbox()


@pytest.fixture
def group():
    return GroupFactory(name="Sales", slug="sales")


@pytest.fixture
def admin(group):
    return group_admin(group, username="alice")


@pytest.fixture
def working(make_integration, sandbox, group):
    """An active integration with working credentials, activated two days ago, tags off."""
    integration = make_integration(sandbox, group=group, sync_tags=False)
    integration.activated_at = timezone.now() - timedelta(days=2)
    integration.save()
    return integration


def page_url(group) -> str:
    return reverse("integrations:provider", args=[group.slug, "udemy"])


def posted(sandbox, action: str, **overrides) -> dict:
    data = {
        "client_id": sandbox.client_id,
        "client_secret": "",
        "organization_name": sandbox.organization_name,
        "organization_id": sandbox.organization_id,
        "api_base_url": sandbox.api_base_url,
        "sync_tags": "on",
        "action": action,
    }
    data.update(overrides)
    return data


def stored(integration: Integration) -> tuple:
    integration.refresh_from_db()
    return (
        integration.client_id,
        integration.client_secret,
        integration.organization_id,
        integration.api_base_url,
        integration.sync_tags,
        integration.status,
        integration.activated_at,
    )


# --------------------------------------------------------------------------- verified and atomic


@pytest.mark.parametrize("action", ["save", "setup"])
def test_a_wrong_secret_on_an_active_integration_changes_nothing_and_syncs_go_on(
    client: Client, admin, group, sandbox, working, run_sync, action
):
    before = stored(working)
    client.force_login(admin)
    response = client.post(page_url(group), posted(sandbox, action, client_secret=WRONG))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Udemy rejected the credentials (401" in html  # Udemy's reason, shown
    assert WRONG not in html  # never the secret...
    assert 'value="' + sandbox.client_id + '"' in html  # ...but the other typed values
    assert stored(working) == before  # credentials, toggles, status, activation date
    refused = AuditEntry.objects.get(
        integration=working, action__in=["credentials_refused", "activation_failed"]
    )
    assert refused.fields == ["client_secret"] and refused.actor == admin
    # The stored, working credentials still sync right after.
    assert run_sync(working).status == SyncRun.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("9999", "Udemy has no organization 9999"),
        (
            {"api_base_url": "http://127.0.0.1:9/api-2.0/organizations/4242/"},
            "could not be reached",
        ),
        ("503", "503"),
    ],
    ids=["wrong-organization", "unreachable-host", "udemy-5xx"],
)
def test_each_refused_check_says_why_and_keeps_the_working_set(
    client: Client, admin, group, sandbox, working, run_sync, change, reason
):
    before = stored(working)
    if change == "503":
        sandbox.fail(status=503, times=10)
        change = {"client_secret": "a-new-secret-while-udemy-is-down"}
    elif change == "9999":
        base = sandbox.api_base_url.replace("/4242/", "/9999/")
        change = {"organization_id": "9999", "api_base_url": base}
    client.force_login(admin)
    response = client.post(page_url(group), posted(sandbox, "save", **change))
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert stored(working) == before
    sandbox.reset_faults()
    assert run_sync(working).status == SyncRun.Status.SUCCEEDED


def test_toggles_alone_save_without_a_check(client: Client, admin, group, sandbox, working):
    sandbox.reset_log()
    client.force_login(admin)
    response = client.post(page_url(group), posted(sandbox, "save"))
    assert response.status_code == 302
    working.refresh_from_db()
    assert working.sync_tags is True
    assert sandbox.request_log == []  # no call to Udemy for a toggle


def test_a_verified_change_is_stored_with_a_message(client: Client, admin, group, sandbox, working):
    working.client_secret = "an-old-secret-udemy-no-longer-accepts"
    working.save()
    client.force_login(admin)
    response = client.post(
        page_url(group), posted(sandbox, "save", client_secret=sandbox.client_secret), follow=True
    )
    assert "Udemy accepted the credentials" in response.content.decode()
    working.refresh_from_db()
    assert working.client_secret == sandbox.client_secret


def test_the_api_answers_400_with_udemys_reason_and_stores_nothing(admin, group, sandbox, working):
    before = stored(working)
    api = APIClient()
    api.force_authenticate(admin)
    url = f"/api/v1/groups/{group.slug}/integrations/udemy/"
    response = api.patch(url, {"client_secret": WRONG, "sync_tags": True}, format="json")
    assert response.status_code == 400
    assert "rejected the credentials" in response.json()["detail"]
    assert WRONG not in response.content.decode()
    assert stored(working) == before
    assert AuditEntry.objects.filter(integration=working, action="credentials_refused").exists()


def test_the_last_verified_save_wins_whole(monkeypatch, admin, working):
    """Two admins saving at once: each verified set is written whole, never a mix of both."""
    from integrations.providers.udemy import provider

    checked = []
    monkeypatch.setattr(
        provider,
        "check_credentials",
        lambda i: (
            checked.append((i.client_id, i.client_secret))
            or provider.CredentialCheck(ok=True, verdict="ok", message="")
        ),
    )
    first = Integration.objects.get(pk=working.pk)  # both admins opened the page
    second = Integration.objects.get(pk=working.pk)
    old_secret = working.client_secret
    assert integration_save(
        integration=first, actor=admin, data={"client_id": "id-1", "client_secret": "secret-1"}
    ).ok
    assert integration_save(integration=second, actor=admin, data={"client_id": "id-2"}).ok
    working.refresh_from_db()
    # The second admin's verified set (id-2 with the secret they had: blank kept the stored one)
    assert (working.client_id, working.client_secret) == ("id-2", old_secret)
    assert checked == [("id-1", "secret-1"), ("id-2", old_secret)]


# --------------------------------------------------------------------------- Error is not a stop


def test_an_integration_in_error_stays_scheduled_and_recovers(make_integration, sandbox, run_sync):
    integration = make_integration(sandbox)
    sandbox.fail(status=401, times=1)
    failed = run_sync(integration)
    integration.refresh_from_db()
    assert failed.status == SyncRun.Status.FAILED
    assert integration.status == Integration.Status.ERROR
    assert integration.error_kind == Integration.ErrorKind.CREDENTIALS
    runs = sync_request_scheduled(kind="content", today=timezone.localdate())
    assert [run.integration_id for run in runs] == [integration.pk]  # still on its schedule
    SyncRun.objects.filter(pk__in=[r.pk for r in runs]).delete()
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    integration.refresh_from_db()
    assert integration.status == Integration.Status.ACTIVE
    assert (integration.error_kind, integration.status_message) == ("", "")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"status": 503, "times": 50}, "unavailable"),
        ({"status": 200, "body": "html", "times": 50}, "bad_response"),
    ],
)
def test_error_kinds_are_told_apart(make_integration, sandbox, run_sync, settings, fault, kind):
    settings.UDEMY_MAX_RETRIES = 1
    integration = make_integration(sandbox)
    sandbox.fail(**fault)
    run_sync(integration)
    integration.refresh_from_db()
    assert (integration.status, integration.error_kind) == ("error", kind)


def test_a_deactivated_integration_is_not_scheduled(make_integration, sandbox):
    make_integration(sandbox, status=Integration.Status.INACTIVE)
    assert sync_request_scheduled(kind="content", today=timezone.localdate()) == []


def test_sync_now_works_in_error(client: Client, admin, group, sandbox, working):
    Integration.objects.filter(pk=working.pk).update(
        status=Integration.Status.ERROR, error_kind="unavailable"
    )
    client.force_login(admin)
    page = client.get(page_url(group)).content.decode()
    assert "Service unavailable" in page and "the next run retries" in page
    url = reverse("integrations:sync", args=[group.slug, "udemy", "content"])
    client.post(url)
    assert SyncRun.objects.filter(integration=working, trigger="manual").exists()


# --------------------------------------------------------------------------- body faults, streams


def test_a_truncated_page_is_retried_and_the_run_succeeds(make_integration, sandbox, run_sync):
    integration = make_integration(sandbox, sync_learning_paths=True)
    sandbox.fail(status=200, body="truncated", times=2, path_contains="courses/list")
    run = run_sync(integration)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert Course.objects.filter(integration=integration).count() == 25 + 4


def test_a_failed_course_stream_does_not_skip_the_learning_paths(
    make_integration, sandbox, run_sync, settings
):
    settings.UDEMY_MAX_RETRIES = 1
    integration = make_integration(sandbox, sync_learning_paths=True)
    sandbox.fail(status=503, times=50, path_contains="courses/list")
    run = run_sync(integration)
    assert run.status == SyncRun.Status.PARTIAL  # paths went through, courses did not
    kinds = set(Course.objects.filter(integration=integration).values_list("kind", flat=True))
    assert kinds == {Course.Kind.LEARNING_PATH}
    assert run.error_summary.startswith("Courses: ")
    assert run.archival_decision == "skipped" and "incomplete" in run.archival_reason


# --------------------------------------------------------------------------- health


def test_health_shows_last_runs_failures_staleness_and_the_next_run(
    admin, group, working, run_sync, sandbox
):
    run_sync(working)
    sandbox.fail(status=503, times=50)
    run_sync(working, kind="stats")
    Integration.objects.filter(pk=working.pk).update(
        last_stats_sync=timezone.now() - timedelta(hours=40)
    )
    api = APIClient()
    api.force_authenticate(admin)
    health = api.get(f"/api/v1/groups/{group.slug}/integrations/udemy/").json()["health"]
    assert health["content"]["last_run"]["status"] == "succeeded"
    assert health["stats"]["last_run"]["status"] == "failed"
    assert health["consecutive_failures"] == 1
    assert health["stats"]["stale"] is True and health["content"]["stale"] is False
    assert health["stale"] is True
    # 07:30 in the schedule's zone (Central European Time), as the beat entry says
    assert health["content"]["next_run_at"][11:19] == "07:30:00"
    assert health["content"]["next_run_at"].endswith(("+01:00", "+02:00"))


def test_the_page_shows_health_at_a_glance(client: Client, admin, group, working, run_sync):
    run = run_sync(working)
    Integration.objects.filter(pk=working.pk).update(
        last_stats_sync=timezone.now() - timedelta(hours=40)
    )
    client.force_login(admin)
    html = client.get(page_url(group)).content.decode()
    run_link = reverse("integrations:run", args=[group.slug, run.pk])
    assert re.search(
        rf'href="{run_link}">#{run.pk}</a> <span class="badge text-bg-success" '
        r'data-testid="run-status">Succeeded</span>',
        html,
    )
    assert re.search(r"next \w{3} 07:30 CE[S]?T", html), "the next run names its zone"
    assert html.count('data-testid="stale"') == 1  # statistics only


def test_a_soft_time_limit_while_mapping_an_item_times_the_run_out(
    make_integration, sandbox, run_sync, monkeypatch
):
    """The worker's soft time limit is raised wherever the run is: mapping one item must not
    swallow it as a bad item (the run would go on and end partial instead of timed out)."""
    from collections.abc import Mapping

    from celery.exceptions import SoftTimeLimitExceeded

    from integrations.providers.udemy import provider

    class TimeUp(Mapping):
        """An item whose reading the soft time limit interrupts (inside the mapping's guard)."""

        def __init__(self, raw):
            self.raw = raw

        def __getitem__(self, key):
            return self.raw[key]

        def __len__(self):
            return len(self.raw)

        def __iter__(self):
            raise SoftTimeLimitExceeded()

    real, calls = provider.map_course, []

    def fifth_item_times_out(raw, **options):
        calls.append(1)
        return real(TimeUp(raw) if len(calls) == 5 else raw, **options)

    monkeypatch.setattr(provider, "map_course", fifth_item_times_out)
    run = run_sync(make_integration(sandbox))
    assert run.status == SyncRun.Status.TIMED_OUT
    assert run.failed == 0


@pytest.mark.parametrize("kind", ["unavailable", "credentials"])
def test_a_passed_check_clears_an_error_it_answers(
    client: Client, admin, group, sandbox, working, kind
):
    """ "Settings saved: Udemy accepted the credentials" never sits above a red Error that the
    same check just answered (a wrong base URL fixed, a rotated secret entered)."""
    working.status, working.error_kind = Integration.Status.ERROR, kind
    working.status_message = "Udemy could not be reached"
    working.client_secret = "an-old-secret-udemy-no-longer-accepts"
    working.save()
    client.force_login(admin)
    response = client.post(
        page_url(group), posted(sandbox, "save", client_secret=sandbox.client_secret), follow=True
    )
    html = response.content.decode()
    assert "Udemy accepted the credentials" in html
    assert 'data-testid="status-message"' not in html
    working.refresh_from_db()
    assert (working.status, working.error_kind, working.status_message) == ("active", "", "")


def test_a_passed_check_does_not_clear_bad_responses(
    client: Client, admin, group, sandbox, working
):
    """Bad responses are told by runs, not by a credential check: the Error stays."""
    working.status, working.error_kind = Integration.Status.ERROR, "bad_response"
    working.client_secret = "an-old-secret-udemy-no-longer-accepts"
    working.save()
    client.force_login(admin)
    client.post(page_url(group), posted(sandbox, "save", client_secret=sandbox.client_secret))
    working.refresh_from_db()
    assert working.status == Integration.Status.ERROR
