"""Small helpers of the core HTTP client and sandbox, usable without Django."""

from __future__ import annotations

import ipaddress
import math
import random
from dataclasses import dataclass
from typing import Any


def setting(name: str, default: Any) -> Any:
    """A Django setting when Django is configured, else the default (a client works alone)."""
    try:
        from django.conf import settings

        return getattr(settings, name, default)
    except Exception:  # ImproperlyConfigured or Django absent: stand-alone use
        return default


def setting_or(value: Any, name: str, default: Any) -> Any:
    """`value` when given (not None), else the setting `name` (else `default`)."""
    return setting(name, default) if value is None else value


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header; None when absent, an HTTP-date or not finite (the
    caller then backs off on its own schedule)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def full_jitter_backoff(attempt: int, *, base: float, ceiling: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter (spreads the retries of many workers apart)."""
    return min(ceiling, base * 2 ** (attempt - 1)) * rng.random()


@dataclass
class RetryBudget:
    """Retry budget and bookkeeping of one logical request."""

    max_retries: int
    retry_after_cap: float
    made: int = 0

    @property
    def exhausted(self) -> bool:
        return self.made > self.max_retries
