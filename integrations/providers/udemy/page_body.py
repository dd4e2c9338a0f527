"""A Udemy list page's body refused while it is read, before its JSON is built in memory.

A page is at most `UDEMY_MAX_PAGE_MB` (5 MB), but 5 MB of tiny values is a great many Python
objects: 200,000 `{"id": N}` cost about 48 MB to decode, 1.7 million `{}` more, and several pages
are fetched at once. So a body that could hold many values is first walked by a streaming parser
(ijson, its C backend), which keeps nothing but a few counters: it stops at the first item past
the page size asked for, or past `MAX_PAGE_VALUES` values in all (a page dense anywhere, not only
in its list of items). A normal page (100 courses or paths: a few thousand values) is not walked:
counting its separators, a bound on its values, shows it is small enough to decode as it is.
A body that is not valid JSON is left to the decoder, which says so (`core.response_body`).
"""

from __future__ import annotations

import io

import ijson

from .errors import UdemyBadResponse

# A body this short is decoded at once (at most ~65,000 values: a few MB of objects).
WALK_ABOVE_BYTES = 64 * 1024
# A page whose separators (`,` `:` `[`) show at most this many values is decoded at once: a
# few MB at worst. 100 courses with every field hold about 5,000 values (10,000 separators), 100
# learning paths about 12,700 (25,000), a report page about 2,400: none of them is walked.
WALK_ABOVE_VALUES = 50_000
# The most values a page may hold, per item asked for: 2,000, nine times the richest item of
# the sandbox (a learning path of sections and items, 223 values). At 100 items, 200,000
# values: at most ~15 MB decoded, whatever their shape.
VALUES_PER_ITEM = 2_000

_CLOSING = frozenset({"end_map", "end_array"})
_OPENING = frozenset({"start_map", "start_array"})


def refuse_dense_page(content: bytes, page_size: int, page_number: int) -> None:
    """Refuse `content` (a list page's body) as it is parsed if its top-level `results` holds
    more than `page_size` items, or if it holds more values than a page of `page_size` items
    may; a page that cannot hold that many values is not parsed here."""
    if len(content) <= WALK_ABOVE_BYTES or _values_at_most(content) <= WALK_ABOVE_VALUES:
        return
    max_values = max(1, page_size) * VALUES_PER_ITEM
    depth, key, in_results, items, values = 0, None, False, 0, 0
    try:
        for event, value in ijson.basic_parse(io.BytesIO(content), use_float=True):
            if event == "map_key":
                if depth == 1:
                    key = value
                continue
            if event in _CLOSING:
                depth -= 1
                in_results = in_results and depth > 1
                continue
            values += 1  # a value starts here, at `depth`
            if in_results and depth == 2:
                items += 1
                if items > page_size:
                    raise too_many_items(page_size, page_number)
            if values > max_values:
                raise UdemyBadResponse(
                    f"Udemy sent page {page_number} with more than {max_values} values, far "
                    f"more than {page_size} items hold: the page is refused.",
                    status=200,
                )
            if event in _OPENING:
                if event == "start_array" and depth == 1 and key == "results":
                    in_results = True
                depth += 1
    except ijson.JSONError:
        # A large, dense body strict JSON does not accept (NaN, a byte-order mark, another
        # encoding): the decoder would build it whole before saying so. Refused here.
        raise UdemyBadResponse(
            f"Udemy sent page {page_number} as a large body that is not strict JSON: the page "
            "is refused.",
            status=200,
        ) from None


def too_many_items(page_size: int, page_number: int) -> UdemyBadResponse:
    return UdemyBadResponse(
        f"Udemy sent more than the {page_size} items asked for on page {page_number}: the "
        "page is refused.",
        status=200,
    )


def _values_at_most(content: bytes) -> int:
    """An upper bound on the JSON values in `content`: each starts the document, follows a `[`
    (an array's first), a `,` (an array's next) or a `:` (a member's). Separators inside
    strings only raise the bound."""
    return content.count(b",") + content.count(b":") + content.count(b"[") + 1
