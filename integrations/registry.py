"""The extension points: one explicit dict per kind of connector.

Adding a provider = a folder under `integrations/providers/` + one line here (see README).
"""

from __future__ import annotations

PROVIDERS: dict[str, str] = {
    "udemy": "Udemy Business",
}

PROVIDER_CHOICES = list(PROVIDERS.items())
