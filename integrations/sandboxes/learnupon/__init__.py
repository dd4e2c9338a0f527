"""The fake LearnUpon REST API v1: `server` (routes, paging, rate-limit headers), `push` (the
endpoints the push writes to), `replies` (LearnUpon's error bodies), `data` (the portal)."""

from .data import LearnUponData
from .server import LearnUponSandbox

__all__ = ["LearnUponData", "LearnUponSandbox"]
