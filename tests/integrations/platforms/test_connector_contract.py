"""The connector contract: a class declaring a capability must implement its methods (refused when
the class is defined, not in the middle of a run), what a platform runs follows from its declared
capabilities, the registry lists the kinds the models offer, and the Coursebase report reaches
the Udemy statistics sync as a registered statistics source."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.connectors.platforms import PLATFORMS, kinds_with, platform_run_kinds
from integrations.connectors.providers import PROVIDERS, statistics_sources
from integrations.core.errors import CredentialCheck
from integrations.core.kinds import PLATFORM_CHOICES, PROVIDER_CHOICES, Capability
from integrations.models import PlatformConnection
from integrations.platforms.base import PlatformConnector
from integrations.providers.base import Provider


class _Minimal(PlatformConnector):
    key, label = "minimal", "Minimal"

    def make_client(self, connection: Any, **options: Any) -> Any:
        return None

    def check_connection(self, connection: Any) -> CredentialCheck:
        return CredentialCheck(ok=True, verdict="ok", message="")

    def config_problem(self, values: Any) -> None:
        return None


def test_a_declared_capability_without_its_methods_is_refused_at_definition():
    with pytest.raises(TypeError, match="directory_source"):

        class _NoDirectory(_Minimal):
            capabilities = frozenset({Capability.DIRECTORY})

    with pytest.raises(TypeError, match="push_run"):

        class _NoPush(_Minimal):
            capabilities = frozenset({Capability.PUSH})

    with pytest.raises(TypeError, match="stats_stream"):

        class _NoStats(Provider):
            key, label = "nostats", "No statistics"
            capabilities = frozenset({Capability.STATISTICS})


def test_a_connector_without_the_common_methods_cannot_be_made():
    class _Abstract(PlatformConnector):
        key, label = "abstract", "Abstract"

    with pytest.raises(TypeError):
        _Abstract()


def test_run_kinds_follow_the_capabilities():
    assert _Minimal().run_kinds == ()
    assert platform_run_kinds("learnupon") == ("directory", "push")
    assert platform_run_kinds("coursebase") == ("directory", "courses", "reports")
    assert PLATFORMS["learnupon"].supports(Capability.PUSH)
    assert not PLATFORMS["coursebase"].supports(Capability.PUSH)
    assert kinds_with(Capability.PUSH) == ["learnupon"]
    assert kinds_with(Capability.COURSES) == ["coursebase"]


def test_the_registry_lists_the_kinds_of_the_model_choices():
    assert {k: c.label for k, c in PLATFORMS.items()} == dict(PLATFORM_CHOICES)
    assert {k: p.label for k, p in PROVIDERS.items()} == dict(PROVIDER_CHOICES)


def test_the_coursebase_report_is_a_registered_statistics_source():
    """Registered when the app is ready: the Udemy side finds it without importing it."""
    assert statistics_sources() == [PLATFORMS["coursebase"]]


def test_a_client_kind_reads_its_columns_from_its_credentials():
    """Field `x` of the credentials is the column `<key>_x` (`base_url` is every kind's); the
    field kept out of repr is the write-only secret; the others but `base_url` are required."""
    learnupon, coursebase = PLATFORMS["learnupon"], PLATFORMS["coursebase"]
    assert learnupon.credential_columns == {
        "portal": "learnupon_portal",
        "username": "learnupon_username",
        "password": "learnupon_password",
        "base_url": "base_url",
    }
    assert learnupon.secret_field == "learnupon_password"
    assert learnupon.required_fields == ("learnupon_portal", "learnupon_username")
    assert coursebase.credential_columns == {
        "domain": "coursebase_domain",
        "token": "coursebase_token",
        "base_url": "base_url",
    }
    assert coursebase.secret_field == "coursebase_token"
    assert coursebase.required_fields == ("coursebase_domain",)
    model_columns = {field.name for field in PlatformConnection._meta.get_fields()}
    for connector in (learnupon, coursebase):
        assert set(connector.credential_columns.values()) <= model_columns
        assert connector.host_field in connector.credential_columns.values()


def _client_kind(credentials: type, **declared: Any) -> type:
    from integrations.platforms.connector_common import ClientConnector

    return type("Acme", (ClientConnector,), {"key": "acme", "credentials_class": credentials,
                                            **declared})  # fmt: skip


def test_a_client_kind_without_exactly_one_secret_is_refused_when_defined():
    """A credentials class that forgets `repr=False` would make its secret an ordinary setting,
    shown again in the form: the class is refused, as one with two secrets is."""
    import dataclasses

    @dataclasses.dataclass
    class NoSecret:
        host: str
        api_key: str
        base_url: str = ""

    @dataclasses.dataclass
    class TwoSecrets:
        host: str
        api_key: str = dataclasses.field(repr=False)
        pin: str = dataclasses.field(repr=False, default="")

    with pytest.raises(TypeError, match="exactly one field with repr=False"):
        _client_kind(NoSecret)
    with pytest.raises(TypeError, match="exactly one field with repr=False"):
        _client_kind(TwoSecrets)


def test_a_client_kind_may_not_declare_what_follows_from_its_credentials():
    import dataclasses

    @dataclasses.dataclass
    class Credentials:
        host: str
        api_key: str = dataclasses.field(repr=False)

    with pytest.raises(TypeError, match="secret_field follow from credentials_class"):
        _client_kind(Credentials, secret_field="acme_api_key")
    kind = _client_kind(Credentials)
    assert (kind.secret_field, kind.required_fields) == ("acme_api_key", ("acme_host",))
