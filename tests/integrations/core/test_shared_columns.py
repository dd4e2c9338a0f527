"""The column groups the models share (`integrations.core.models`): an owner's status, a run's
triggers, the lease of an owner, and the form fields that follow the connection's columns."""

from __future__ import annotations

import pickle

import pytest
from django.db import IntegrityError, transaction

from integrations.models import (
    Integration,
    PlatformConnection,
    PlatformLease,
    PlatformRun,
    SyncLease,
    SyncRun,
)
from integrations.web.forms import PlatformConnectionForm
from tests.factories import GroupFactory, IntegrationFactory


def test_each_owner_says_its_states_in_its_own_words_over_the_same_values():
    assert Integration.Status.choices == [
        ("inactive", "Inactive"),
        ("active", "Active"),
        ("error", "Error"),
    ]
    assert PlatformConnection.Status.choices == [
        ("inactive", "Not tested"),
        ("active", "Connected"),
        ("error", "Error"),
    ]
    assert Integration.Status.ACTIVE == PlatformConnection.Status.ACTIVE == "active"


def test_every_run_model_has_the_core_triggers_then_its_own():
    assert SyncRun.Trigger.values == ["schedule", "manual", "api", "command"]
    assert PlatformRun.Trigger.values == ["schedule", "manual", "api", "sync"]
    assert PlatformRun.Trigger.SYNC.label == "After a Udemy sync"
    assert SyncRun._meta.get_field("trigger").choices == SyncRun.Trigger.choices
    assert PlatformRun._meta.get_field("kind").choices == PlatformRun.Kind.choices


@pytest.mark.parametrize(
    "enum", [Integration.Status, PlatformConnection.Status, SyncRun.Trigger, PlatformRun.Trigger]
)
def test_a_made_enum_is_named_where_its_model_is(enum):
    """Its members pickle and unpickle to themselves, found through the model's module."""
    member = next(iter(enum))
    assert pickle.loads(pickle.dumps(member)) is member
    assert enum.__qualname__.endswith(".Status") or enum.__qualname__.endswith(".Trigger")


@pytest.mark.django_db
def test_a_lease_is_one_per_owner_and_kind():
    integration = IntegrationFactory()
    SyncLease.objects.create(integration=integration, kind="content")
    SyncLease.objects.create(integration=integration, kind="stats")
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncLease.objects.create(integration=integration, kind="content")
    assert set(integration.leases.values_list("kind", flat=True)) == {"content", "stats"}

    connection = PlatformConnection.objects.create(group=GroupFactory(), kind="learnupon")
    PlatformLease.objects.create(connection=connection, kind="push")
    with pytest.raises(IntegrityError), transaction.atomic():
        PlatformLease.objects.create(connection=connection, kind="push")
    assert connection.leases.count() == 1


def test_the_form_text_settings_are_as_long_as_their_columns():
    fields = PlatformConnectionForm.base_fields
    texts = ["learnupon_portal", "learnupon_username", "learnupon_owner_id", "target_group_id"]
    for name in [*texts, "coursebase_domain", "base_url"]:
        column = PlatformConnection._meta.get_field(name)
        assert fields[name].max_length == column.max_length, name
        assert fields[name].required is False
    assert fields["learnupon_portal"].max_length == 63
    assert "acme.learnupon.com" in str(fields["learnupon_portal"].help_text)
    assert fields["learnupon_username"].help_text == ""
