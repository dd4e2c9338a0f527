"""A person's display language and time zone: stored with the account (the switch in the top bar
or the preferences page), applied on every page, named beside every time, and used for the
alert e-mails each recipient receives. The browser's language decides while nothing is stored;
the API keeps English."""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Preference
from catalog.templatetags.moments import moment
from integrations.models import AlertEmail, Integration, SyncRun
from integrations.services.alerts import alerts_on_run_ended
from tests.factories import GroupFactory, IntegrationFactory, SyncRunFactory, group_admin
from tests.run_messages import catch_sent_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(group):
    return group_admin(group, username="claire")


def signed_in(user, **headers) -> Client:
    """A new browser: no cookie from an earlier visit."""
    client = Client(**headers)
    client.force_login(user)
    return client


def text(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_switch_is_remembered_with_the_account_in_another_browser(admin, group):
    home = reverse("integrations:settings", args=[group.slug])
    first = signed_in(admin)
    response = first.post(reverse("set_language"), {"language": "fr", "next": home})
    assert response.status_code == 302
    assert Preference.objects.get(user=admin).language == "fr"
    # Another browser, English by its header and without the cookie: the account's choice wins.
    other = signed_in(admin, HTTP_ACCEPT_LANGUAGE="en")
    assert "Paramètres" in text(other.get(home))


def test_without_a_stored_choice_the_browser_language_decides(admin, group):
    home = reverse("integrations:settings", args=[group.slug])
    assert "Paramètres" in text(signed_in(admin, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").get(home))
    assert "Settings" in text(signed_in(admin, HTTP_ACCEPT_LANGUAGE="en-GB").get(home))
    assert not Preference.objects.filter(user=admin).exists()


def test_an_anonymous_switch_stores_nothing(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert not Preference.objects.exists()


def test_the_preferences_page_stores_language_and_zone(admin):
    client = signed_in(admin)
    url = reverse("preferences")
    assert "Time zone" in text(client.get(url))
    response = client.post(url, {"language": "fr", "time_zone": "America/New_York"})
    assert response.status_code == 302
    stored = Preference.objects.get(user=admin)
    assert (stored.language, stored.time_zone) == ("fr", "America/New_York")
    assert "Fuseau horaire" in text(client.get(url))


def test_an_unknown_zone_is_refused_with_a_message_and_nothing_is_stored(admin):
    client = signed_in(admin)
    response = client.post(reverse("preferences"), {"language": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Select a valid choice" in unescape(response.content.decode())
    assert not Preference.objects.filter(user=admin).exists()


def test_every_time_names_its_zone_in_the_readers_zone(admin, group):
    integration = IntegrationFactory(group=group)
    moment_utc = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
    SyncRunFactory(integration=integration, started_at=moment_utc, finished_at=moment_utc)
    history = reverse("integrations:history", args=[group.slug])
    client = signed_in(admin)
    assert settings.TIME_ZONE == "Europe/Paris"
    assert "2026-12-07 08:30 CET" in text(client.get(history))  # the site's zone by default
    Preference.objects.create(user=admin, time_zone="America/New_York")
    page = text(client.get(history))
    assert "2026-12-07 02:30 EST" in page and "08:30 CET" not in page
    # The zone follows the person, not the process: the next visitor reads the site's zone.
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_a_summer_time_reads_with_its_summer_zone():
    with timezone.override("Europe/Paris"):
        assert moment(datetime(2026, 7, 1, 5, 30, tzinfo=UTC)) == "2026-07-01 07:30 CEST"
        assert moment(datetime(2026, 12, 1, 6, 30, tzinfo=UTC), "H:i") == "07:30 CET"
    assert moment(None) == ""


def test_the_api_ignores_a_french_accounts_preference(admin, group):
    Preference.objects.create(user=admin, language="fr", time_zone="Asia/Tokyo")
    client = signed_in(admin)
    response = client.get("/api/v1/groups/no-such-group/")
    assert response.status_code == 404
    assert response["Content-Language"] == "en"


@pytest.fixture
def _no_queueing(monkeypatch):
    catch_sent_tasks(monkeypatch)


@pytest.mark.usefixtures("_no_queueing")
def test_each_recipient_reads_the_alert_in_their_language_and_zone(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    group = GroupFactory(name="Sales", slug="sales")
    french = group_admin(group, username="amelie")
    english = group_admin(group, username="bob")
    Preference.objects.create(user=french, language="fr", time_zone="America/Montreal")
    integration = IntegrationFactory(
        group=group, status=Integration.Status.ACTIVE, activated_at=timezone.now()
    )
    finished = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
    run = SyncRun.objects.create(
        integration=integration,
        kind="content",
        trigger=SyncRun.Trigger.MANUAL,
        status="failed",
        finished_at=finished,
        error_summary="Udemy is down",
    )
    alerts_on_run_ended(run=run)
    emails = {tuple(e.recipients): e for e in AlertEmail.objects.filter(integration=integration)}
    assert set(emails) == {
        (french.learner.email,),
        tuple(sorted([english.learner.email, "ops@example.com"])),
    }
    in_french = emails[(french.learner.email,)]
    assert "Exécution n° " in in_french.text_body and "Run #" not in in_french.text_body
    assert "02:30 EST" in in_french.text_body, in_french.text_body
    in_english = emails[tuple(sorted([english.learner.email, "ops@example.com"]))]
    assert "Run #" in in_english.text_body and "08:30 CET" in in_english.text_body


def test_a_stored_choice_no_longer_offered_reads_as_the_sites(admin):
    from catalog.preferences import locale_of

    stale = Preference.objects.create(user=admin, language="de", time_zone="Atlantis/Capital")
    assert locale_of(stale) == locale_of(None)
    assert locale_of(None).time_zone == settings.TIME_ZONE


def test_the_tz_databases_aliases_are_not_offered(admin):
    from catalog.preferences import zone_names

    assert "Europe/Paris" in zone_names() and "UTC" in zone_names()
    assert "localtime" not in zone_names() and "Factory" not in zone_names()
