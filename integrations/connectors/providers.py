"""The providers, by key (`Integration.provider`), and where their statistics may come from.

Adding a provider: a `providers.base.Provider` subclass, a line in `PROVIDERS`, and its key and
label in `core.kinds.PROVIDER_CHOICES` (the models' choices; a choices-only migration).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from integrations.core.kinds import PROVIDER_CHOICES, Capability
from integrations.models.sync import LAUNCH_URL_CHECKS
from integrations.providers.base import Provider, StatisticsSource
from integrations.providers.udemy.provider import UdemyProvider

PROVIDERS: dict[str, Provider] = {provider.key: provider for provider in (UdemyProvider(),)}

if {key: p.label for key, p in PROVIDERS.items()} != dict(PROVIDER_CHOICES):
    raise ImproperlyConfigured("PROVIDERS and core.kinds.PROVIDER_CHOICES list different kinds")


def provider_for(key: str) -> Provider:
    """The provider of a key (KeyError for an unknown one)."""
    return PROVIDERS[key]


# Sources of a provider's statistics other than its API, registered by whoever offers them
# (`connectors.platforms.hooks_connect`): the provider side asks, never imports them.
STATISTICS_SOURCES: list[StatisticsSource] = []


def statistics_source_register(source: StatisticsSource) -> None:
    if source not in STATISTICS_SOURCES:
        STATISTICS_SOURCES.append(source)


def statistics_sources() -> list[StatisticsSource]:
    return list(STATISTICS_SOURCES)


def hooks_connect() -> None:
    """Give the models each content provider's launch URL check (`Integration.
    launch_url_allowed`): the models sit below the providers and import none. Called when the
    app is ready."""
    for key, provider in PROVIDERS.items():
        if provider.supports(Capability.CONTENT):
            LAUNCH_URL_CHECKS[key] = provider.launch_url_allowed
