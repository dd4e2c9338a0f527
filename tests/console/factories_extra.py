"""Extra factories for the console tests (tests/factories.py is shared; these stay local)."""

from __future__ import annotations

import factory

from integrations.models import AuditEntry, SyncError
from lmsbridge.catalog.models import Tag
from tests.factories import SyncRunFactory


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Tag {n}")


class SyncErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncError

    run = factory.SubFactory(SyncRunFactory)
    external_id = factory.Sequence(lambda n: str(5000 + n))
    category = "invalid_item"
    message = factory.Sequence(lambda n: f"Item {n} has no title")


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEntry

    action = "update"
    fields = factory.LazyFunction(lambda: ["client_id"])
