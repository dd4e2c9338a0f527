"""The learning platforms, by kind (`PlatformConnection.kind`).

Adding a platform: a `platforms.base.PlatformConnector` subclass (most build on
`platforms.connector_common.ClientConnector`), a line in `PLATFORMS`, and its key and label in
`core.kinds.PLATFORM_CHOICES` (the models' choices; a choices-only migration). What it can run
follows from the capabilities it declares.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from integrations.core.kinds import PLATFORM_CHOICES, Capability
from integrations.platforms.base import PlatformConnector
from integrations.platforms.coursebase.connector import CoursebaseConnector
from integrations.platforms.learnupon.connector import LearnUponConnector

from .providers import statistics_source_register

PLATFORMS: dict[str, PlatformConnector] = {
    connector.key: connector for connector in (LearnUponConnector(), CoursebaseConnector())
}

if {key: c.label for key, c in PLATFORMS.items()} != dict(PLATFORM_CHOICES):
    raise ImproperlyConfigured("PLATFORMS and core.kinds.PLATFORM_CHOICES list different kinds")


def platform_for(kind: str) -> PlatformConnector:
    """The connector of a kind (KeyError for an unknown kind)."""
    return PLATFORMS[kind]


def platform_run_kinds(kind: str) -> tuple[str, ...]:
    """The run kinds a platform kind has ("directory", "push", "courses", "reports")."""
    return PLATFORMS[kind].run_kinds


def kinds_with(capability: Capability) -> list[str]:
    """The platform kinds that declare `capability`."""
    return [kind for kind, connector in PLATFORMS.items() if connector.supports(capability)]


def hooks_connect() -> None:
    """Offer the platforms that export a provider's statistics as its statistics sources.
    Called when the app is ready."""
    for kind in kinds_with(Capability.STATISTICS):
        statistics_source_register(PLATFORMS[kind])
