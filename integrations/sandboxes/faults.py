"""What a sandbox can be told to get wrong (`sandboxes.base.SandboxServer`): queued `Fault`s, each
a misbehaviour for the next matching requests, and the `TokenBucket` that models an API's rate
limit (requests per second, bursts), so retries, 429s, timeouts and error mapping are exercised
over real sockets as they would be upstream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FAULT_BODIES = ("json", "html", "truncated", "empty", "hang")


@dataclass
class Fault:
    """One queued misbehaviour; each matching API request consumes one of `times`. `body`:
    "json" (the vendor's error body; for a 2xx, JSON that is not the expected answer), "html",
    "truncated" (the JSON cut in half), "empty" (no body at all), "hang" (the normal answer
    after `hang_seconds`). `payload`, when given, is the JSON answered instead of the vendor's
    error body (e.g. an upstream echoing the credentials back)."""

    path_contains: str = ""  # matched against path + query
    status: int = 503
    times: int = 1
    retry_after: float | None = None
    body: str = "json"
    hang_seconds: float = 5.0
    method: str = ""  # "" matches any method
    error_code: str = ""  # vendor error code for the JSON body (Coursebase's "error")
    payload: Any = None  # the JSON body instead of the vendor's error body

    def __post_init__(self) -> None:
        if self.body not in FAULT_BODIES:
            raise ValueError(f"body must be one of {FAULT_BODIES}, not {self.body!r}")
        if int(self.times) < 1:
            raise ValueError("times must be at least 1")
        self.status, self.times = int(self.status), int(self.times)

    def matches(self, method: str, target: str) -> bool:
        return self.path_contains in target and self.method in ("", method)


class TokenBucket:
    """`rate` requests per second on average, up to `burst` at once; `take()` is 0.0 when a
    request may go, else the seconds until one may (what `Retry-After` announces)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = rate, max(1, burst), clock
        self.tokens, self.at = float(self.burst), clock()

    def take(self) -> float:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate
