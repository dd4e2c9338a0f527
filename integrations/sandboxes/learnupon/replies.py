"""LearnUpon's error bodies and parameter parsing, as the sandbox's endpoints answer and read
them: `{"response_type": "ERROR", "response_code": N, "message": "..."}` (LearnUpon API v1)."""

from __future__ import annotations

from typing import Any

from ..exchange import Reply, json_reply


def int_or_none(value: Any) -> int | None:
    """A numeric parameter or id as an int; None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def error_body(status: int, message: str) -> dict:
    """LearnUpon's error body."""
    return {"response_type": "ERROR", "response_code": status, "message": message}


def error_reply(status: int, message: str) -> Reply:
    """An error answer with LearnUpon's body."""
    return json_reply(status, error_body(status, message))
