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


def shared_pause_cap() -> float:
    """The longest pause (seconds) an upstream's answer may impose on an account's other syncs.

    A 429's `Retry-After` is published to the account's shared budget (`core.budget`) so that
    every sync of the account honours it. One absurd answer (`Retry-After: 999999999`) must not
    stop every later run of the account for 31 years: a shared pause lasts at most
    `UPSTREAM_MAX_SHARED_PAUSE` (default one hour) and never longer than a run may wait
    (`RUN_MAX_WAIT`). The run that met the answer still waits as long as it was told, within
    `RUN_MAX_WAIT`; the others try again once the shared pause lapses, and a still-limited
    upstream answers 429 again and renews it: one request per cap at most.
    """
    cap = float(setting("UPSTREAM_MAX_SHARED_PAUSE", 3600.0))
    run_max = float(setting("RUN_MAX_WAIT", 6 * 3600))
    return max(0.0, min(cap, run_max))


def human_wait(seconds: float, *, beyond: float | None = None) -> str:
    """A wait as an admin reads it: "90 s", "3 min", "2 hours", "3 days"; past `beyond`,
    "more than <beyond>" (a 31-year `Retry-After` reads "more than 6 hours", not "1e+09 s")."""
    if beyond is not None and seconds > beyond:
        return f"more than {human_wait(beyond)}"
    if seconds < 120:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds <= 3600:
        return f"{math.ceil(seconds / 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} hours"
    return f"{seconds / 86400:.3g} days"
