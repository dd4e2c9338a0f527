"""The kinds of connectors as plain data: their keys and labels (model choices) and the
capabilities a connector may declare.

The models take their choices from here, low in the layers, so that a model never imports a
connector; the connector classes themselves are listed by `integrations.connectors`, above the
providers and platforms. A new kind is a line here (and a choices-only migration) plus its class
in that registry, which refuses to start when the two lists differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

PROVIDER_CHOICES: list[tuple[str, str]] = [("udemy", "Udemy Business")]
PLATFORM_CHOICES: list[tuple[str, str]] = [("learnupon", "LearnUpon"), ("coursebase", "Coursebase")]


class Capability(StrEnum):
    """What a connector can do. A platform's run kinds carry the same names
    (`PlatformRun.Kind`): a platform runs exactly the kinds it declares."""

    CONTENT = "content"  # a provider's catalog (courses, learning paths)
    STATISTICS = "statistics"  # learners' progress (a provider's, or a platform's export of it)
    DIRECTORY = "directory"  # a platform's groups, users and memberships
    PUSH = "push"  # a platform receives the catalog and the completions
    COURSES = "courses"  # a platform lists its own courses (matched to the synced ones)
    REPORTS = "reports"  # a platform exports reports (platform-side progress)


def missing_methods(
    cls: type, capabilities: Iterable[Capability], requires: Mapping[Capability, tuple[str, ...]],
    base: type,
) -> list[str]:  # fmt: skip
    """The methods a connector class declaring `capabilities` leaves as `base` has them (each
    capability needs `requires[capability]`): a declared capability without its code."""
    return [
        name
        for capability in capabilities
        for name in requires.get(capability, ())
        if getattr(cls, name) is getattr(base, name)
    ]
