"""Paging of the Udemy Business API's lists (`UdemyClient`'s scans): which lists, how a scan
walks them, and where it must stop.

Reference: the Udemy Business API guide (`Pagination`). Lists are paged by `page`/`page_size`
and an absolute `next` link, followed only to the API's own origin (a page must not redirect
the credentials); pages are yielded one at a time (a generator), so memory stays flat, and once
the first page's `count` is known the next ones are fetched several at a time by number.

Every list is bounded: a page weighs at most `UDEMY_MAX_PAGE_MB` and holds at most the page
size asked for (a body dense enough to matter is counted as it is parsed: `page_body`); a list
ends within the pages its count makes (and a small slack), or, without a count, within
`UDEMY_MAX_CATALOG_PAGES` / `UDEMY_MAX_REPORT_PAGES`; an empty page whose `next` points on ends
it too, and so do `MAX_PAGES_WITHOUT_NEW` pages in a row that list only items the scan has listed
already (`page_progress`). Whatever breaks a bound is a `UdemyBadResponse`: the scan is incomplete,
so nothing is archived.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ...core.concurrency import fetch_in_order
from ...core.netutil import setting, setting_or
from ...core.throttle import Throttle
from .errors import UdemyBadResponse, UdemyError, detail_in
from .page_body import refuse_dense_page, too_many_items
from .page_progress import Identity, ScanProgress, activity_row, item_id

PAGE_SIZE = 100  # the documented maximum: fewer requests per sync
INVALID_PAGE = "Invalid page."
MAX_COUNT = 100_000_000  # items in one list: far above any organization's catalog or report
# The heaviest list page read (UDEMY_MAX_PAGE_MB), decompressed, well below the general
# UPSTREAM_MAX_BODY_MB: the JSON parse of a page stays small whatever a server sends, with
# several pages in flight. A page of 100 courses with every field (descriptions, objectives,
# instructors, images) weighs far less; a hostile page of a great many tiny items is refused
# while it arrives, before it can swell a worker's memory (figures in BENCHMARKS.md).
MAX_PAGE_MB = 5.0
# Pages a list without a `count` may have (a count bounds the list by itself), settings
# UDEMY_MAX_CATALOG_PAGES and UDEMY_MAX_REPORT_PAGES: room for several times the largest Udemy
# Business catalogs, and for the learner x course activity report of a large organization
# (`tests/reliability/test_bounded_upstream_state.py` checks the room left).
MAX_CATALOG_PAGES = 2_000
MAX_REPORT_PAGES = 20_000

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Page:
    """One page of a Udemy list endpoint, as received."""

    number: int
    count: int | None
    results: list[dict]
    next_url: str | None
    url: str


class PagedLists:
    """The lists of `UdemyClient` and their scans: a mixin of the client, which sets the
    attributes below and sends the requests (`url_for`, `request`)."""

    _origin: tuple[str, str, int | None]  # the API's own: where `next` may point
    page_concurrency: int | None  # None: UDEMY_PAGE_CONCURRENCY
    throttle: Throttle  # how many pages may be in flight during a concurrent scan

    def iter_course_pages(self, start_page: int = 1) -> Iterator[Page]:
        """The organization's course catalog, one page of up to 100 courses at a time."""
        params = {"fields[courses]": "@all", "page_size": PAGE_SIZE}
        return self._iter_pages(
            "courses/list/", params, start_page, ceiling=_CATALOG, identity=item_id
        )

    def iter_learning_path_pages(self, start_page: int = 1) -> Iterator[Page]:
        """The organization's learning paths."""
        params = {"page_size": PAGE_SIZE}
        return self._iter_pages(
            "learning-paths/list/", params, start_page, ceiling=_CATALOG, identity=item_id
        )

    def iter_user_course_activity_pages(
        self, start_page: int = 1, last_page: int | None = None
    ) -> Iterator[Page]:
        """One row per learner x course (progress, dates): the statistics sync's input (pages
        `start_page` to `last_page`, or to the end)."""
        params = {"page_size": PAGE_SIZE}
        path = "analytics/user-course-activity/"
        return self._iter_pages(
            path, params, start_page, last_page, ceiling=_REPORT, identity=activity_row
        )

    # ------------------------------------------------------------------ scanning

    def _iter_pages(
        self,
        path: str,
        params: Mapping[str, Any],
        start_page: int,
        last_page: int | None = None,
        *,
        ceiling: tuple[str, int],
        identity: Identity = item_id,
    ) -> Iterator[Page]:
        """The pages of a list from `start_page` on, in order. The first page's `count` says how
        many there are: the next ones are fetched `UDEMY_PAGE_CONCURRENCY` at a time by number
        (pages by number are independent), each checked as if its `next` had been followed;
        a list that grew past its count goes on by `next`, one page at a time, up to a slack
        (`_Bounds`). `last_page`: stop there (a range of a split report). `ceiling`: the
        setting and default of the most pages a list without a count may have. `identity`: what
        tells an item from another, for a list that only repeats itself (`ScanProgress`)."""
        start_page = max(1, int(start_page))
        page_size = int(params.get("page_size", PAGE_SIZE))
        url = self.url_for(path, {**params, "page": start_page})
        try:
            first = self._get_page(url, page_size)
        except UdemyError as exc:
            # Resuming past the last page: the previous run already read everything.
            if start_page > 1 and _is_invalid_page(exc):
                return
            raise
        yield first
        progress = ScanProgress(identity)
        progress.saw(first.number, first.results)
        items, page = len(first.results), first
        next_url = self._checked_next(first.next_url)
        last = _last_page(first.count, page_size)
        bounds = _Bounds.of(first, last, ceiling)
        if last_page is not None:
            if first.number >= last_page:
                return
            last = min(last, last_page)
        concurrency = self.configured_concurrency()
        if next_url and concurrency > 1 and last > first.number:
            bounds.check(first, next_url, items)
            for page in self._pages_by_number(path, params, range(first.number + 1, last + 1),
                                              concurrency):  # fmt: skip
                items += len(page.results)
                progress.saw(page.number, page.results)
                yield page
                next_url = self._checked_next(page.next_url)
                if next_url:
                    bounds.check(page, next_url, items)
                    progress.check(page.number)
        while next_url and (last_page is None or page.number < last_page):
            bounds.check(page, next_url, items)
            progress.check(page.number)
            page = self._get_page(next_url, page_size)
            items += len(page.results)
            progress.saw(page.number, page.results)
            yield page
            next_url = self._checked_next(page.next_url)

    def _pages_by_number(
        self, path: str, params: Mapping[str, Any], numbers: range, concurrency: int
    ) -> Iterator[Page]:
        def fetch(number: int) -> Page:
            # An "Invalid page" here means the list shrank mid-scan: an error, never a short
            # scan (what it missed would be archived).
            url = self.url_for(path, {**params, "page": number})
            return self._get_page(url, int(params.get("page_size", PAGE_SIZE)))

        with self.throttle.scan(concurrency) as scan:
            yield from fetch_in_order(numbers, fetch, scan, name="udemy-pages")

    def configured_concurrency(self) -> int:
        return int(setting_or(self.page_concurrency, "UDEMY_PAGE_CONCURRENCY", 4))

    def _checked_next(self, next_url: str | None) -> str | None:
        """Follow `next` only to the API's own origin: a page must not redirect our credentials."""
        if not next_url:
            return None
        if origin(next_url) != self._origin:
            raise UdemyBadResponse(
                f"Udemy's next-page link points to another server "
                f"({urlsplit(next_url).netloc}); refusing to follow it.",
                status=200,
            )
        return next_url

    def _get_page(self, url: str, page_size: int) -> Page:
        """One page of a list, its body at most `UDEMY_MAX_PAGE_MB` (`MAX_PAGE_MB`)."""
        limit = float(setting("UDEMY_MAX_PAGE_MB", MAX_PAGE_MB))
        number = _page_number(url)
        payload = self.request(
            "GET", url, max_body=int(limit * 2**20),
            check_body=lambda body: refuse_dense_page(body, page_size, number),
        ).payload  # fmt: skip
        return self._page(url, payload, page_size)

    def _page(self, url: str, payload: Any, page_size: int | None = None) -> Page:
        """`payload` as a page, refused when it is not one or holds more items than the
        `page_size` asked for (a page of any number of items would be mapped and stored at
        once)."""
        if not _is_envelope(payload):
            raise UdemyBadResponse(
                "Udemy answered with JSON that is not a page (expected count, next, previous, "
                "results).",
                status=200,
                excerpt=self._excerpt(json.dumps(payload)[:1000]),
            )
        if page_size is not None and len(payload["results"]) > page_size:
            raise too_many_items(page_size, _page_number(url))
        return Page(
            number=_page_number(url),
            count=payload["count"],
            results=payload["results"],
            next_url=payload["next"] or None,
            url=url,
        )


# --------------------------------------------------------------------------- helpers


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of `url`, its default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


_CATALOG = ("UDEMY_MAX_CATALOG_PAGES", MAX_CATALOG_PAGES)
_REPORT = ("UDEMY_MAX_REPORT_PAGES", MAX_REPORT_PAGES)


@dataclass(frozen=True)
class _Bounds:
    """Where a scan stops following `next`: the pages the first page's count makes plus a
    slack of a tenth (items added during the scan), or, without a count, a ceiling setting.
    Page numbers are the list's own, so a scan resumed from its checkpoint (a new time slice)
    does not start its allowance anew."""

    start_page: int
    count: int | None
    last_allowed: int
    ceiling_setting: str

    @classmethod
    def of(cls, first: Page, last: int, ceiling: tuple[str, int]) -> _Bounds:
        name, default = ceiling
        if last:
            return cls(first.number, first.count, last + 1 + last // 10, name)
        return cls(first.number, None, max(1, int(setting(name, default))), name)

    def check(self, page: Page, next_url: str, items: int) -> None:
        """Stop a scan that would never end before it follows `next_url` from `page`."""
        following = _page_number(next_url)
        if following <= page.number:
            raise _endless(
                f"Udemy's next-page link does not advance (page {page.number} points to page "
                f"{following}): the scan stops there."
            )
        if not page.results:
            raise _endless(
                f"Udemy sent page {page.number} empty with a link to page {following}: the "
                "list does not end, the scan stops there."
            )
        if following > self.last_allowed and self.count is not None:
            raise _endless(
                f"Udemy's list goes on past page {self.last_allowed} but announced "
                f"{self.count} items: the scan stops there."
            )
        if following > self.last_allowed:
            raise _endless(
                f"Udemy's list has more than {self.last_allowed} pages and no count "
                f"(the most {self.ceiling_setting} allows): the scan stops there."
            )
        if page.count is not None:
            expected = page.count - (self.start_page - 1) * PAGE_SIZE
            if items > expected + max(PAGE_SIZE, expected // 10):
                raise _endless(
                    f"Udemy listed {items} items from page {self.start_page} on but announced "
                    f"{page.count} in all: the scan stops there."
                )


def _endless(message: str) -> UdemyBadResponse:
    return UdemyBadResponse(message, status=200)


def _last_page(count: Any, page_size: int) -> int:
    """The number of pages `count` items make (0 when the count is unknown)."""
    if not _is_count(count) or page_size <= 0:
        return 0
    return max(1, math.ceil(count / page_size))


def _page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(values[0]) if values else 1
    except ValueError:
        return 1


def _is_envelope(payload: Any) -> bool:
    if not isinstance(payload, dict) or not {"count", "next", "previous", "results"} <= set(
        payload
    ):
        return False
    count, next_url = payload["count"], payload["next"]
    return (
        isinstance(payload["results"], list)
        and (count is None or _is_count(count))
        and (next_url is None or isinstance(next_url, str))
    )


def _is_count(value: Any) -> bool:
    """A page's `count`: a whole number from 0 to MAX_COUNT (a negative or absurd count would
    end as a database error or a progress bar beyond reason)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def _is_invalid_page(exc: UdemyError) -> bool:
    if exc.status != 400:
        return False
    try:
        return detail_in(json.loads(exc.excerpt)) == INVALID_PAGE
    except ValueError:
        return False
