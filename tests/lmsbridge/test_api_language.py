"""The API's messages follow the client's Accept-Language header (English without one), never
the console's cookie or a person's stored preference; field names stay English; the OpenAPI
document (choice labels included) is English for every client."""

from __future__ import annotations

import pytest
from django.conf import settings

from catalog.models import Preference
from integrations.models import SyncRun

pytestmark = pytest.mark.django_db

SYNC = "/api/v1/groups/acme-academy/integrations/udemy/sync/"
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}


def test_a_client_without_a_language_gets_english(a_api, active_integration_a, record_enqueue):
    response = a_api.post(SYNC, {"kind": "everything"}, format="json")
    assert response.status_code == 400
    assert response.json()["kind"] == ['"everything" is not a valid choice.']
    assert response["Content-Language"] == "en"
    assert not SyncRun.objects.exists()


def test_a_french_client_reads_french_messages_under_english_field_names(
    a_api, active_integration_a, record_enqueue
):
    response = a_api.post(SYNC, {"kind": "everything"}, format="json", **FRENCH)
    assert response.status_code == 400
    assert list(response.json()) == ["kind"]
    assert response.json()["kind"] == ["«\xa0everything\xa0» n'est pas un choix valide."]
    assert response["Content-Language"] == "fr"


def test_the_console_cookie_and_a_stored_preference_do_not_change_the_api(
    a_api, active_integration_a, record_enqueue, django_user_model
):
    a_api.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    for user in django_user_model.objects.all():
        Preference.objects.update_or_create(user=user, defaults={"language": "fr"})
    response = a_api.post(SYNC, {"kind": "everything"}, format="json")
    assert response["Content-Language"] == "en"
    assert response.json()["kind"] == ['"everything" is not a valid choice.']


def test_a_french_client_gets_the_english_schema(a_api):
    english = a_api.get("/api/v1/schema/?format=json").content.decode()
    response = a_api.get("/api/v1/schema/?format=json", **FRENCH)
    assert response.content.decode() == english
    assert response["Content-Language"] == "en"
