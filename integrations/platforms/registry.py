"""The platform kinds LMS Bridge can connect a group to: one line per kind.

Adding a kind = a folder under `integrations/platforms/` whose `connector` module exposes the
functions listed in `integrations/platforms/base.py` (`Connector`), plus one line here. Model
choices are built from this dict, so a new kind also needs a (choices-only) migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType


@dataclass(frozen=True)
class PlatformInfo:
    label: str
    module: str
    directory: bool = True  # can import the group tree and users
    push: bool = False  # can receive the catalog and completions


PLATFORMS: dict[str, PlatformInfo] = {
    "learnupon": PlatformInfo(
        "LearnUpon", "integrations.platforms.learnupon.connector", directory=True, push=True
    ),
    "coursebase": PlatformInfo(
        "Coursebase", "integrations.platforms.coursebase.connector", directory=True, push=False
    ),
}

PLATFORM_CHOICES = [(key, info.label) for key, info in PLATFORMS.items()]


def platform_module(kind: str) -> ModuleType:
    """The `connector` module of a kind (KeyError for an unknown kind)."""
    return import_module(PLATFORMS[kind].module)
