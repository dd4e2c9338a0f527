"""The extension points: one explicit dict per kind of connector.

Adding a provider = a folder under `integrations/providers/` with a `provider.py` module exposing
`make_client`, `check_credentials`, `content_streams` and `stats_stream`, plus one line here.
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
