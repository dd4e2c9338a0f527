"""The API answers in English whatever the client's language: its messages and the OpenAPI
document (choice labels included) are read by scripts, not by people in a console."""

from __future__ import annotations

import pytest

from integrations.models import SyncRun

pytestmark = pytest.mark.django_db

SYNC = "/api/v1/groups/acme-academy/integrations/udemy/sync/"
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}


def test_a_french_client_gets_english_messages(a_api, active_integration_a, record_enqueue):
    response = a_api.post(SYNC, {"kind": "everything"}, format="json", **FRENCH)
    assert response.status_code == 400
    assert response.json()["kind"] == ['"everything" is not a valid choice.']
    assert response["Content-Language"] == "en"
    assert not SyncRun.objects.exists()


def test_a_french_client_gets_the_english_schema(a_api):
    english = a_api.get("/api/v1/schema/?format=json").content.decode()
    assert a_api.get("/api/v1/schema/?format=json", **FRENCH).content.decode() == english
