"""Django's admin reads in words: plurals spelled right, one "Groups", model names in French for
a French browser."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "x" * 20)
    client.force_login(user)
    return client


def index(client, language: str) -> str:
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_admin_index_spells_its_models_right(superuser_client):
    page = index(superuser_client, "en")
    assert "Audit entries" in page and "Audit entrys" not in page
    assert "Alert e-mails" in page and "Udemy request budgets" in page
    assert len(re.findall(r">Groups</a>", page)) == 1, "the platform's groups only"


def test_the_admin_names_its_models_in_french(superuser_client):
    page = index(superuser_client, "fr")
    for label in ("Entrées du journal d’audit", "Exécutions de synchronisation", "Apprenants"):
        assert label in page, label
