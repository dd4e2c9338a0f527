"""Promise: a client secret is encrypted at rest, a wrong key fails closed, keys rotate."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from integrations.core import crypto
from integrations.models import Integration
from tests.factories import IntegrationFactory

SECRET = "s3cr3t-value-that-must-not-leak"


def _stored(integration: Integration) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret FROM integrations_integration WHERE id = %s", [integration.pk]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_secret_is_encrypted_at_rest():
    integration = IntegrationFactory(client_secret=SECRET)
    stored = _stored(integration)
    assert SECRET not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert Integration.objects.get(pk=integration.pk).client_secret == SECRET


@pytest.mark.django_db
def test_a_wrong_key_fails_closed(settings):
    integration = IntegrationFactory(client_secret=SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.SecretDecryptionError):
        Integration.objects.get(pk=integration.pk)


@pytest.mark.django_db
def test_rotation_reencrypts_every_row_and_the_old_key_can_be_dropped(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    integrations = [IntegrationFactory(client_secret=f"{SECRET}-{i}") for i in range(3)]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    for i, integration in enumerate(integrations):
        assert Integration.objects.get(pk=integration.pk).client_secret == f"{SECRET}-{i}"


@pytest.mark.django_db
def test_an_empty_secret_stays_empty():
    integration = IntegrationFactory(client_secret="")
    assert _stored(integration) == ""
    assert Integration.objects.get(pk=integration.pk).client_secret == ""
