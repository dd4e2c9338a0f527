"""An integration's daily times set on its settings page: a time picker per sync, in the
schedules' zone (Europe/Paris), a beat entry of its own that beat reads without a restart, the
same local time across daylight saving time, the shared entry leaving that integration out of
the slot, audited; empty goes back to the site's time."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from integrations.models import AuditEntry, Integration, SyncRun, SyncTime
from integrations.selectors.health import integration_health, next_scheduled_run
from integrations.services.sync import sync_request_scheduled
from integrations.services.sync_times import sync_times_set, task_name
from integrations.tasks.sync import sync_integration_daily
from tests.factories import GroupFactory, IntegrationFactory, group_admin, group_learner

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def group():
    return GroupFactory(slug="sales")


@pytest.fixture
def admin(group):
    return group_admin(group, username="nadia")


@pytest.fixture
def integration(group):
    return IntegrationFactory(
        group=group, status=Integration.Status.ACTIVE, activated_at=timezone.now()
    )


def times_url(integration) -> str:
    return reverse("integrations:sync_times", args=[integration.group.slug, "udemy"])


def post_times(client, integration, **values):
    data = {"content": "", "stats": "", "stats_evening": ""} | values
    return client.post(times_url(integration), data)


def test_the_page_offers_a_time_picker_per_sync_and_names_the_zone(client, admin, integration):
    client.force_login(admin)
    page = client.get(times_url(integration)).content.decode()
    assert page.count('type="time"') == 3
    assert "Europe/Paris" in page
    detail = client.get(reverse("integrations:provider", args=["sales", "udemy"])).content
    assert b'data-testid="sync-times"' in detail and b"07:30" in detail


def test_a_time_of_its_own_is_a_beat_entry_in_the_schedules_zone_and_audited(
    client, admin, integration
):
    client.force_login(admin)
    changed_before = PeriodicTasks.last_change()
    response = post_times(client, integration, content="06:15")
    assert response.status_code == 302
    assert SyncTime.objects.get(integration=integration, slot="content").at == time(6, 15)
    task = PeriodicTask.objects.get(name=task_name(integration, "content"))
    assert (task.crontab.hour, task.crontab.minute) == ("6", "15")
    assert str(task.crontab.timezone) == "Europe/Paris"
    assert json.loads(task.kwargs) == {
        "integration_id": integration.pk,
        "kind": "content",
        "slot": "",
    }
    # django-celery-beat's database scheduler re-reads its entries when this moves: no restart.
    assert PeriodicTasks.last_change() is not None
    assert changed_before is None or PeriodicTasks.last_change() > changed_before
    entry = AuditEntry.objects.get(integration=integration, action="schedule")
    assert entry.actor == admin and "06:15" in entry.detail
    page = client.get(reverse("integrations:provider", args=["sales", "udemy"])).content.decode()
    assert "Changed the daily sync times" in page


def test_the_same_local_time_on_both_sides_of_daylight_saving_time(integration, admin):
    sync_times_set(integration, {"content": time(6, 15)}, actor=admin)
    task = PeriodicTask.objects.get(name=task_name(integration, "content"))
    for now_utc, expected_utc in (
        # Winter (CET, UTC+1): 06:15 local is 05:15 UTC.
        (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), datetime(2026, 3, 28, 5, 15, tzinfo=UTC)),
        # The night the clocks go forward (29 March 2026), then summer (CEST, UTC+2): 04:15 UTC.
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 4, 15, tzinfo=UTC)),
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 5, 15, tzinfo=UTC)),
    ):
        local = now_utc.astimezone(PARIS)
        schedule = task.crontab.schedule  # beat's own computation, its clock set to `now_utc`
        schedule.nowfun = lambda local=local: local
        beat_next = now_utc + schedule.remaining_estimate(local)
        assert beat_next.astimezone(UTC).replace(microsecond=0) == expected_utc, now_utc
        assert beat_next.astimezone(PARIS).strftime("%H:%M") == "06:15"
        page_next = next_scheduled_run(kind="content", now=now_utc, integration=integration)
        assert page_next == expected_utc


def test_the_shared_entry_leaves_it_out_and_its_own_entry_runs_it_once_a_day(
    integration, admin, group
):
    other = IntegrationFactory(
        group=GroupFactory(), status=Integration.Status.ACTIVE, activated_at=timezone.now()
    )
    sync_times_set(integration, {"content": time(5, 0)}, actor=admin)
    today = date(2026, 12, 7)
    shared = sync_request_scheduled(kind="content", today=today)
    assert [run.integration_id for run in shared] == [other.pk]
    # Its statistics still follow the shared entry.
    stats = sync_request_scheduled(kind="stats", today=today)
    assert {run.integration_id for run in stats} == {integration.pk, other.pk}
    assert sync_integration_daily(integration.pk, "content") == 1
    assert sync_integration_daily(integration.pk, "content") == 0  # twice a tick: one run
    assert SyncRun.objects.filter(integration=integration, kind="content").count() == 1


def test_empty_goes_back_to_the_site_time(client, admin, integration):
    client.force_login(admin)
    post_times(client, integration, stats_evening="21:00")
    assert PeriodicTask.objects.filter(name=task_name(integration, "stats_evening")).exists()
    post_times(client, integration)
    assert not SyncTime.objects.filter(integration=integration).exists()
    assert not PeriodicTask.objects.filter(name=task_name(integration, "stats_evening")).exists()
    # The site's own time typed in is the site's time: no entry of its own.
    post_times(client, integration, content="07:30")
    assert not SyncTime.objects.filter(integration=integration).exists()


def test_a_wrong_time_re_renders_with_a_message_and_changes_nothing(client, admin, integration):
    client.force_login(admin)
    response = post_times(client, integration, content="25:99")
    assert response.status_code == 400
    assert "Enter a valid time" in response.content.decode()
    assert not SyncTime.objects.exists()
    assert not AuditEntry.objects.filter(action="schedule").exists()


def test_the_page_shows_its_next_run_at_its_own_time(integration, admin):
    sync_times_set(integration, {"stats": time(23, 50)}, actor=admin)
    health = integration_health(integration=integration)
    assert health.stats.next_run_at.astimezone(PARIS).strftime("%H:%M") in {"19:45", "23:50"}
    nights = [
        next_scheduled_run(kind="stats", now=datetime(2026, 12, 7, h, 0, tzinfo=UTC),
                           integration=integration).astimezone(PARIS).strftime("%H:%M")
        for h in (8, 20)
    ]  # fmt: skip
    assert nights == ["19:45", "23:50"]  # the evening run, then its own morning time moved late


def test_only_the_groups_admins_may_change_the_times(client, integration):
    outsider = group_admin(GroupFactory(), username="other-admin")
    learner = group_learner(integration.group, username="lea")
    for user in (outsider, learner):
        client.force_login(user)
        assert post_times(client, integration, content="06:00").status_code in (403, 404)
    assert not SyncTime.objects.exists()


def test_every_audited_action_reads_in_words():
    """No action of the trail reads as its code ("Xapi issue"): each has its sentence."""
    import re
    from pathlib import Path

    from integrations.core.audit_words import SENTENCES

    root = Path(__file__).resolve().parents[3] / "integrations"
    actions = set()
    for path in root.rglob("*.py"):
        if "management" in path.parts or "migrations" in path.parts:
            continue  # argparse's action="store_true"; migrations hold no audit
        text = path.read_text()
        actions |= set(re.findall(r'action="([a-z_]+)"', text))
        actions |= set(re.findall(r'action=(?:"[a-z_]+" if [^\n]+ else )?"([a-z_]+)"', text))
        actions |= set(re.findall(r'_audit\([^,()]+, [^,()]+, "([a-z_]+)"', text))
    actions -= {"update"}  # read field by field
    assert actions, "no audited action found"
    assert not actions - set(SENTENCES), sorted(actions - set(SENTENCES))


def test_an_integration_deleted_takes_its_own_entries_with_it(integration, admin):
    sync_times_set(integration, {"content": time(6, 0), "stats": time(8, 0)}, actor=admin)
    assert (
        PeriodicTask.objects.filter(task="integrations.tasks.sync_integration_daily").count() == 2
    )
    integration.delete()
    assert not PeriodicTask.objects.filter(
        task="integrations.tasks.sync_integration_daily"
    ).exists()


def test_an_own_entry_removed_in_the_admin_falls_back_to_the_shared_one_until_saved_again(
    client, admin, integration
):
    sync_times_set(integration, {"content": time(6, 0)}, actor=admin)
    PeriodicTask.objects.filter(name=task_name(integration, "content")).update(enabled=False)
    today = date(2026, 12, 7)
    assert [r.integration_id for r in sync_request_scheduled(kind="content", today=today)] == [
        integration.pk
    ]  # the shared time rather than never
    client.force_login(admin)
    post_times(client, integration, content="06:00")  # the same time, saved again
    assert PeriodicTask.objects.get(name=task_name(integration, "content")).enabled


def test_seconds_are_dropped_before_a_time_is_compared_with_the_sites(integration, admin):
    assert sync_times_set(integration, {"content": time(7, 30, 15)}, actor=admin) == []
    assert (
        not SyncTime.objects.exists()
        and not PeriodicTask.objects.filter(
            task="integrations.tasks.sync_integration_daily"
        ).exists()
    )


def test_in_the_hour_repeated_in_autumn_a_passed_time_is_tomorrow():
    from integrations.selectors.sync_times import next_local

    # 25 October 2026, 02:40 CET (the second 02:40 of the night, 01:40 UTC): 02:30 has passed.
    now = datetime(2026, 10, 25, 1, 40, tzinfo=UTC)
    assert next_local(time(2, 30), PARIS, now) > now
    assert next_local(time(2, 30), PARIS, now).date() == date(2026, 10, 26)


def test_a_time_moved_to_one_already_passed_runs_todays_sync_now(
    integration, admin, django_capture_on_commit_callbacks
):
    """At 07:00 (the site's 07:30 still ahead), a time of 06:45 would lose today's run: the old
    entry no longer fires and the new one fired before it existed. Today's run starts now;
    moving it again the same day starts nothing more (once a day)."""
    import time_machine

    with time_machine.travel(datetime(2026, 12, 7, 6, 0, tzinfo=UTC), tick=False):  # 07:00 CET
        with django_capture_on_commit_callbacks(execute=True):
            sync_times_set(integration, {"content": time(6, 45)}, actor=admin)
        assert SyncRun.objects.filter(integration=integration, kind="content").count() == 1
        with django_capture_on_commit_callbacks(execute=True):
            sync_times_set(integration, {"content": time(6, 50)}, actor=admin)
        assert SyncRun.objects.filter(integration=integration, kind="content").count() == 1
    with time_machine.travel(datetime(2026, 12, 8, 6, 0, tzinfo=UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):  # later, still ahead: nothing now
            sync_times_set(integration, {"content": time(9, 0)}, actor=admin)
        assert SyncRun.objects.filter(integration=integration, kind="content").count() == 1
