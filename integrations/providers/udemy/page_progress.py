"""Whether a Udemy list scan still brings new items: a list that keeps sending items already
listed in this scan ends after `MAX_PAGES_WITHOUT_NEW` pages in a row, instead of running to its
page ceiling (2,000 catalog pages, 20,000 report pages).

What a scan has seen is kept in a Bloom filter of fixed size (`FILTER_BITS`, 2 MiB), whatever the
list's length: a set of up to 2 million ids (the report's ceiling x 100) would weigh about 150 MB.
A false "already seen" is possible, so one page is never enough: it takes every item of
`MAX_PAGES_WITHOUT_NEW` pages in a row to be seen before, which a real list never does (even at
2 million items, where about 2 % of new items read as seen, 1,000 new items in a row all read as
seen with a chance of about 10^-1700).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from .errors import UdemyBadResponse

# Pages in a row bringing no item new to the scan before it ends: a list that grows while it is
# read shifts a few items onto the next page, never ten pages' worth.
MAX_PAGES_WITHOUT_NEW = 10
FILTER_BITS = 2**24  # 2 MiB of bits
_HASHES = 4  # bit positions per item, 24 bits each from one digest

Identity = Callable[[Mapping[str, Any]], Hashable]


def item_id(raw: Mapping[str, Any]) -> Hashable:
    """A course's or learning path's identity: its `id`."""
    return raw.get("id") if isinstance(raw, Mapping) else repr(raw)


def activity_row(raw: Mapping[str, Any]) -> Hashable:
    """A report row's identity: the row itself (a learner x course, anonymized rows included:
    two distinct rows differ somewhere)."""
    if not isinstance(raw, Mapping):
        return repr(raw)
    return repr(sorted(raw.items(), key=lambda pair: str(pair[0])))


class ScanProgress:
    """The items a scan has listed (a Bloom filter) and the pages in a row that listed none new."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.bits = bytearray(FILTER_BITS // 8)
        self.stale = 0  # pages in a row without a new item
        self.stale_since = 0  # the first of them

    def saw(self, number: int, results: list) -> None:
        """Note the items of page `number`."""
        new = False
        for raw in results:
            new = self._add(self.identity(raw)) or new
        if new or not results:  # an empty page is another bound's (`_Bounds`)
            self.stale = 0
            return
        if self.stale == 0:
            self.stale_since = number
        self.stale += 1

    def check(self, number: int) -> None:
        """End the scan before it follows the `next` of page `number` if the pages up to it
        brought nothing new for too long."""
        if self.stale >= MAX_PAGES_WITHOUT_NEW:
            raise UdemyBadResponse(
                f"Udemy sent {self.stale} pages in a row (pages {self.stale_since} to {number}) "
                "listing only items already listed in this scan: the list does not end, the "
                "scan stops there.",
                status=200,
            )

    def _add(self, identity: Hashable) -> bool:
        """Add `identity`; whether it was new (False: seen, or a rare false positive)."""
        digest = hashlib.blake2b(repr(identity).encode(), digest_size=16).digest()
        value, new = int.from_bytes(digest, "big"), False
        for _ in range(_HASHES):
            bit = value % FILTER_BITS
            value //= FILTER_BITS
            byte, mask = bit >> 3, 1 << (bit & 7)
            if not self.bits[byte] & mask:
                self.bits[byte] |= mask
                new = True
        return new
