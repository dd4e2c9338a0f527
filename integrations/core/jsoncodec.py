"""JSON written on the sync's hot path, with orjson: the raw fingerprint of each item and the
one JSON document of a bulk statement cost a fraction of the standard library's (figures in
BENCHMARKS.md).

orjson refuses what JSON cannot hold exactly (integers beyond 64 bits, lone surrogates) and
what it has no type for; those values go through `json` instead, so the output is `json`'s
or the same text. The one difference: orjson writes a NaN or an infinity (which only a
non-standard body can hold) as null, where `json` writes `NaN`.

Bodies are still decoded by `json` (`core.response_body`): orjson would read an integer beyond
64 bits as a float, and decoding is a small part of a page's cost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson


def canonical(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON with its keys sorted: the same bytes for the same value,
    whatever order its keys were received in."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8", "surrogatepass")


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """`value` as compact JSON text (non-ASCII as is); `default` writes what JSON has no type
    for, as `json.dumps`'s hook does (orjson writes datetimes, dates and times itself, in the
    same ISO 8601 form as `isoformat()`)."""
    try:
        return orjson.dumps(value, default=default).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, default=default, separators=(",", ":"), ensure_ascii=False)
