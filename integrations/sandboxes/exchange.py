"""A request and its reply as every sandbox handles them: the `Request` a kind's `_serve` reads,
the `Reply` it returns, and the small helpers the kinds build replies with (JSON, an HTML error
page, HTTP Basic checked in constant time, timestamps as the fake APIs write them)."""

from __future__ import annotations

import hmac
import json
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any


def iso(moment: datetime) -> str:
    """A UTC timestamp as the fake APIs write it: 2025-06-02T07:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Request:
    """One API request as the sandbox sees it (query as a dict, JSON body decoded)."""

    method: str
    path: str
    query: dict[str, str]
    headers: Any
    body: Any
    raw_query: str = ""  # as sent: order, repeats and blank values kept


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (latency, a hang fault)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=dict(headers or {}))


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def basic_auth_matches(header: str, username: str, password: str) -> bool:
    """Whether an `Authorization` header is HTTP Basic with exactly these credentials."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = b64decode(token.strip(), validate=True)
    except ValueError:
        return False
    return hmac.compare_digest(given, f"{username}:{password}".encode())


def html_page(status: int) -> bytes:
    return (
        "<!DOCTYPE html>\n<html><head><title>"
        f"{status} {phrase(status)}</title></head><body><h1>{phrase(status)}</h1>"
        "<p>The server is temporarily unable to service your request due to maintenance "
        "downtime or capacity problems. Please try again later.</p></body></html>"
    ).encode()
