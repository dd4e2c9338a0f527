"""Fixtures of the console tests: a group with its admin, a learner, and logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.models import Integration
from tests.factories import GroupFactory, IntegrationFactory, group_admin, group_learner

SECRET = "s3cr3t-Value-Never-Shown"


@pytest.fixture
def group():
    return GroupFactory(name="Sales", slug="sales")


@pytest.fixture
def other_group():
    return GroupFactory(name="Engineering", slug="engineering")


@pytest.fixture
def admin_user(group):
    return group_admin(group, username="alice")


@pytest.fixture
def learner_user(group):
    return group_learner(group, username="leo")


@pytest.fixture
def admin_client(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def learner_client(client: Client, learner_user) -> Client:
    client.force_login(learner_user)
    return client


@pytest.fixture
def integration(group) -> Integration:
    """An active Udemy integration of `group` whose secret is `SECRET`."""
    return IntegrationFactory(group=group, client_secret=SECRET, status=Integration.Status.ACTIVE)
