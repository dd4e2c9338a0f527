"""The extension points: one explicit dict per kind of connector, model choices built from them.

Adding a provider = a folder under `integrations/providers/` whose `provider` module exposes
`make_client`, `check_credentials`, `content_streams` and `stats_stream`, plus one line in
`PROVIDERS`. Adding a learning platform = a folder under `integrations/platforms/` whose
`connector` module exposes the functions listed in `integrations/platforms/base.py`, plus one line
in `PLATFORMS` (model choices come from these dicts: a new kind also needs a choices-only
migration). The modules are named by strings, so this table imports no connector.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType


@dataclass(frozen=True)
class ProviderInfo:
    label: str
    module: str


PROVIDERS: dict[str, ProviderInfo] = {
    "udemy": ProviderInfo("Udemy Business", "integrations.providers.udemy.provider"),
}

PROVIDER_CHOICES = [(key, info.label) for key, info in PROVIDERS.items()]


def provider_module(key: str) -> ModuleType:
    return import_module(PROVIDERS[key].module)


@dataclass(frozen=True)
class PlatformInfo:
    label: str
    module: str
    directory: bool = True  # can import the group tree and users
    push: bool = False  # can receive the catalog and completions
    courses: bool = False  # lists its own courses (matched to the synced ones by title)
    reports: bool = False  # exports reports (platform-side progress)


PLATFORMS: dict[str, PlatformInfo] = {
    "learnupon": PlatformInfo(
        "LearnUpon", "integrations.platforms.learnupon.connector", directory=True, push=True
    ),
    "coursebase": PlatformInfo(
        "Coursebase",
        "integrations.platforms.coursebase.connector",
        directory=True,
        push=False,
        courses=True,
        reports=True,
    ),
}

PLATFORM_CHOICES = [(key, info.label) for key, info in PLATFORMS.items()]


# Where a Udemy statistics sync may read its rows instead of the Udemy API: each module exposes
# `stats_pages(integration, on_wait)`, a context manager giving `pages(start)` or None (not the
# source of this integration). Named by strings: the Udemy side never imports the platforms.
STATS_SOURCES: dict[str, str] = {
    "coursebase": "integrations.platforms.coursebase.stats_source",
}


def stats_source_modules() -> list[ModuleType]:
    return [import_module(name) for name in STATS_SOURCES.values()]


def platform_run_kinds(kind: str) -> tuple[str, ...]:
    """The run kinds a platform kind supports ("directory", "push", "courses", "reports")."""
    info = PLATFORMS[kind]
    flags = {"directory": info.directory, "push": info.push, "courses": info.courses,
             "reports": info.reports}  # fmt: skip
    return tuple(name for name, supported in flags.items() if supported)


def platform_module(kind: str) -> ModuleType:
    """The `connector` module of a kind (KeyError for an unknown kind)."""
    return import_module(PLATFORMS[kind].module)
