"""Schemathesis: every operation, fuzzed from the app's own OpenAPI schema.

As a superuser with a token (the widest view), with the path parameters pinned to real objects
(so 200 answers are checked against their schemas) and, separately, left random (weird slugs
and ids). Asserted: never a 5xx; status codes, content types, headers and bodies match the
schema; schema-violating input is rejected. Not asserted: `positive_data_acceptance`, since a
schema can't say that an e-mail is already taken or that a group slug must exist.

No network and no broker: activation's credential check and the sync enqueue are stubbed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.models import Course, Tag
from integrations.models import Integration, SyncError
from integrations.providers.udemy.client import CredentialCheck
from lmsbridge.wsgi import application
from tests.api_fixtures import assert_no_secret
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    IntegrationFactory,
    SyncRunFactory,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same cases on every run: a normal-suite test must not flake
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Keep the test's transaction across WSGI calls, like Django's test client does: the
    request signals would otherwise close the connection in the middle of the test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


TOKEN = "f" * 40  # a fixed key: the schema is loaded at import, before any fixture
RUN_ID = 424242


@pytest.fixture(autouse=True)
def fuzz_world(superuser, group_a, monkeypatch, record_enqueue, in_process_requests) -> None:
    """Real objects for the pinned path parameters, and stubs for the outside world."""
    monkeypatch.setattr(
        "integrations.providers.udemy.provider.check_credentials",
        lambda integration: CredentialCheck(False, "bad_credentials", "Stub: no network."),
    )
    Token.objects.create(user=superuser, key=TOKEN)
    integration = IntegrationFactory(group=group_a, status=Integration.Status.ACTIVE)
    course = CourseFactory(integration=integration)
    course.tags.add(Tag.objects.create(name="Data"))
    CourseFactory(integration=integration, kind=Course.Kind.LEARNING_PATH)
    AttemptFactory(course=course)
    run = SyncRunFactory(integration=integration, pk=RUN_ID)
    SyncError.objects.create(run=run, external_id="1", category="mapping", message="bad")


def _load(parameters: dict) -> schemathesis.BaseSchema:
    # The schema view needs no database (public, no credentials sent): loading at import is fine.
    config = SchemathesisConfig.from_dict(
        {"headers": {"Authorization": f"Token {TOKEN}"}, "parameters": parameters}
    )
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application, config=config)


pinned = _load({"slug": "acme-academy", "id": RUN_ID})
random_paths = _load({})


def _validate(case) -> None:
    response = case.call_and_validate(checks=CHECKS)
    assert_no_secret(response.content)


@pinned.parametrize()
@HYPOTHESIS
def test_api_conforms_to_its_schema(case):
    _validate(case)


@random_paths.parametrize()
@settings(HYPOTHESIS, max_examples=10)
def test_api_conforms_with_random_path_parameters(case):
    _validate(case)
