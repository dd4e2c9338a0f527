"""The API's JSON parser: DRF's, bounded in depth.

A body nested 50,000 levels deep makes the decoder raise `RecursionError`, which DRF does not turn
into a parse error (a 500). No document of this API is nested more than a few levels, so anything
deeper than `MAX_DEPTH` is refused with a 400 before or after decoding.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
TOO_DEEP = f"JSON parse error - the document is nested more than {MAX_DEPTH} levels deep."


def depth_of(value: Any) -> int:
    """The nesting depth of decoded JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in item)
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if depth_of(data) > MAX_DEPTH:
            raise ParseError(TOO_DEEP)
        return data
