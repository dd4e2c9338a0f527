"""The console in French: chosen by the browser (Accept-Language) or with the language switch,
English otherwise (no header, or an English browser)."""

from __future__ import annotations

from html import unescape

import pytest
from django.conf import settings
from django.urls import reverse

from catalog.models import Membership
from tests.factories import CourseFactory, IntegrationFactory, MembershipFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return unescape(response.content.decode())


@pytest.fixture
def pages(group, other_group, admin_user) -> dict[str, str]:
    # Two groups administered: the home page lists them instead of opening the only one.
    MembershipFactory(group=other_group, learner=admin_user.learner, role=Membership.Role.ADMIN)
    integration = IntegrationFactory(group=group)
    course = CourseFactory(integration=integration, title="Python basics")
    SyncRunFactory(integration=integration)
    return {
        "home": reverse("home"),
        "integrations": reverse("integrations:settings", args=[group.slug]),
        "integration": reverse("integrations:provider", args=[group.slug, "udemy"]),
        "history": reverse("integrations:history", args=[group.slug]),
        "catalog": reverse("catalog:group_catalog", args=[group.slug]),
        "course": reverse("catalog:course_dashboard", args=[group.slug, course.pk]),
        "learner_catalog": reverse("catalog:learner_catalog"),
    }


FRENCH = {
    "home": ["Vos groupes", "Mon catalogue", "Se déconnecter"],
    "integrations": ["Intégrations", "Paramètres", "Historique des synchronisations"],
    "integration": [
        "Synchroniser le contenu maintenant",
        "Formulaire de l'intégration",
        # The form's labels, help texts and guidance (Python strings, not the template's)
        "Activer la synchronisation des tags",
        "Pages récupérées en même temps (facultatif)",
        "Pages d'une même liste Udemy demandées en même temps, de 1 à ",
        "Lecture du contenu",
    ],
    "history": [
        "Historique des synchronisations",
        "Statut",
        "Filtrer",
        "Tous les statuts",
        # The run's status, kind and trigger (model choices)
        "Mise en file",
        "Contenu",
        "· manuel",
        # The filters' labels (read by screen readers)
        '<label class="visually-hidden" for="id_kind">Type</label>',
        '<label class="visually-hidden" for="id_trigger">Déclencheur</label>',
    ],
    "catalog": ["Catalogue", "Rechercher par titre", "Tous les tags"],
    "course": ["Apprenants", "Progression moyenne", "Exporter en CSV", "Dernière activité"],
    "learner_catalog": ["Rechercher des cours", "Toutes les langues"],
}
ENGLISH = {
    "home": ["Your groups", "My catalog"],
    "integrations": ["Integrations", "Sync history"],
    "integration": [
        "Sync content now",
        "Integration form",
        "Enable tags synchronization",
        "Pages of one Udemy list requested at the same time, 1 to ",
        "Playing the content",
    ],
    "history": ["Sync history", "Status", "Any status", "Queued", "Content", "· manual"],
    "catalog": ["Search by title", "Any tag"],
    "course": ["Average progress", "Export CSV", "Last activity"],
    "learner_catalog": ["Search courses", "Any language"],
}


@pytest.mark.parametrize("name", sorted(FRENCH))
def test_a_french_browser_gets_the_pages_in_french(admin_client, pages, name):
    html = page(admin_client, pages[name], HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    assert '<html lang="fr">' in html
    for words in FRENCH[name]:
        assert words in html, f"{words!r} missing on {name}"


@pytest.mark.parametrize("name", sorted(ENGLISH))
@pytest.mark.parametrize("accept", [None, "en-US,en;q=0.9", "de-DE"])
def test_english_stays_the_default(admin_client, pages, name, accept):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    html = page(admin_client, pages[name], **headers)
    assert '<html lang="en">' in html
    for words in ENGLISH[name]:
        assert words in html, f"{words!r} missing on {name}"


def test_the_language_switch_sets_french_and_returns_to_the_same_page(admin_client, pages):
    history = pages["history"] + "?kind=content"
    html = page(admin_client, history)
    assert 'data-testid="language-switch"' in html
    assert f'name="next" value="{history}"' in html
    response = admin_client.post(reverse("set_language"), {"language": "fr", "next": history})
    assert response.status_code == 302
    assert response["Location"] == history
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    # The choice wins over the browser's own language.
    html = page(admin_client, history, HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<html lang="fr">' in html and "Historique des synchronisations" in html
    response = admin_client.post(reverse("set_language"), {"language": "en", "next": history})
    assert response["Location"] == history
    assert "Sync history" in page(admin_client, history, HTTP_ACCEPT_LANGUAGE="fr")


def test_the_switch_is_on_the_login_page_too(client):
    html = page(client, reverse("login"), HTTP_ACCEPT_LANGUAGE="fr")
    assert 'data-testid="language-switch"' in html
    assert "Se connecter à LMS Bridge" in html
    assert 'for="language-select">Langue d\'affichage</label>' in html


def test_plurals_follow_the_count(admin_client, pages):
    html = page(admin_client, pages["catalog"], HTTP_ACCEPT_LANGUAGE="fr")
    assert "1 élément" in html
    assert "1 item" in page(admin_client, pages["catalog"])


def test_flash_messages_follow_the_language(admin_client, group):
    IntegrationFactory(group=group)
    toggle = reverse("integrations:alerts", kwargs={"slug": group.slug, "provider": "udemy"})
    response = admin_client.post(
        toggle, {"enabled": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9"
    )
    assert f"E-mails d'alerte activés pour vous dans {group.name}." in unescape(
        response.content.decode()
    )
    response = admin_client.post(toggle, {"enabled": "0"}, follow=True)
    assert f"Alert e-mails turned off for you in {group.name}." in unescape(
        response.content.decode()
    )
