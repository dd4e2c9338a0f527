"""Promise: nothing an upstream sends stays forever or grows without bound.

- A `Retry-After` far in the future ends the run that met it with a readable message, but the
  pause it publishes to the organization's shared budget (a database row or a Redis hash)
  never lasts longer than `UPSTREAM_MAX_SHARED_PAUSE` (and `RUN_MAX_WAIT`): it expires by
  itself, and one stored before this bound existed is read as clamped.
- A list that never ends (empty pages whose `next` points on, pages beyond the announced
  count, no count at all) ends the scan as a bad response after a bounded number of requests.
- A page holding more items than the page size asked for, or a body heavier than a list page
  may weigh, is refused before it is mapped or stored.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings as django_settings

from catalog.models import Course
from integrations.core.budget import REDIS_PREFIX, DatabaseBudget, RedisBudget, budget_holder
from integrations.core.execute import Reschedule
from integrations.core.netutil import human_wait, shared_pause_cap
from integrations.models import SyncRun, UpstreamBudget
from integrations.providers.udemy.client import (
    UdemyBadResponse,
    UdemyClient,
    UdemyRetryLater,
)
from integrations.providers.udemy.provider import budget_key
from tests.hostile_server import hostile_server
from tests.integrations.providers.test_hostile_upstream import client_for

REDIS_URL = django_settings.REDIS_URL or "redis://127.0.0.1:6379/3"
FAR = 999_999_999  # seconds: the Retry-After that paused an organization for 31 years


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")


@pytest.fixture(params=["database", "redis"])
def backend(request, db, settings):
    """The name of the shared budget's backend; REDIS_URL set to match."""
    if request.param == "redis":
        _redis_or_skip()
        settings.REDIS_URL = REDIS_URL
    else:
        settings.REDIS_URL = ""
    return request.param


def _budget(backend: str, key: str, limit: int = 4):
    if backend == "redis":
        return RedisBudget(REDIS_URL, key, limit)
    return DatabaseBudget(UpstreamBudget, key, limit)


def _forget(backend: str, key: str) -> None:
    if backend == "redis":
        import redis

        redis.Redis.from_url(REDIS_URL).delete(REDIS_PREFIX + key)


# --------------------------------------------------------------------------- 1. the shared pause


def test_the_shared_pause_cap_is_the_smaller_of_its_setting_and_the_run_s_longest_wait(settings):
    settings.UPSTREAM_MAX_SHARED_PAUSE = 3600
    settings.RUN_MAX_WAIT = 6 * 3600
    assert shared_pause_cap() == 3600
    settings.RUN_MAX_WAIT = 600
    assert shared_pause_cap() == 600


def test_a_pause_published_far_ahead_is_clamped_where_it_is_shared(backend, settings):
    """Claim and release both publish: neither stores more than the cap, and Redis keeps the
    hash no longer than the cap (the pause expires by itself)."""
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    key = f"test:{budget_holder()}"
    budget = _budget(backend, key)
    try:
        now = time.time()
        assert budget.claim("a", 2, now + FAR).pause_until <= now + 121
        budget.release("a", now + FAR)
        assert budget.claim("b", 2, 0.0).pause_until <= time.time() + 121
        if backend == "redis":
            assert 0 < budget._redis.ttl(budget._name) <= 300  # SLOT_TTL, not 31 years
        else:
            assert UpstreamBudget.objects.get(key=key).pause_until <= time.time() + 121
    finally:
        _forget(backend, key)


def test_a_pause_stored_too_far_ahead_is_read_as_clamped(backend, settings):
    """A row or hash written before the bound existed (pause = now + 1e9) is read, and
    rewritten, as at most the cap."""
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    key = f"test:{budget_holder()}"
    budget = _budget(backend, key)
    try:
        far = time.time() + FAR
        if backend == "redis":
            budget._redis.hset(budget._name, "_pause", repr(far))
            budget._redis.expire(budget._name, FAR)
        else:
            UpstreamBudget.objects.create(key=key, pause_until=far)
        grant = budget.claim("a", 2, 0.0)
        assert grant.slots == 2
        assert grant.pause_until <= time.time() + 121
        if backend == "redis":
            assert float(budget._redis.hget(budget._name, "_pause")) <= time.time() + 121
            assert 0 < budget._redis.ttl(budget._name) <= 300
        else:
            assert UpstreamBudget.objects.get(key=key).pause_until <= time.time() + 121
    finally:
        _forget(backend, key)


def test_the_client_honours_and_shares_no_pause_longer_than_the_cap(udemy_sandbox, settings):
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    client = UdemyClient(udemy_sandbox.credentials(), allowed_hosts=["127.0.0.1"])
    client.throttle.pause_until_epoch(time.time() + FAR)  # read from a budget stored long ago
    assert client.throttle.pause_epoch() <= time.time() + 121
    other = UdemyClient(udemy_sandbox.credentials(), allowed_hosts=["127.0.0.1"], max_retries=0)
    udemy_sandbox.fail(path_contains="courses/list", status=429, retry_after=FAR)
    with pytest.raises(UdemyRetryLater, match="more than 6 hours") as excinfo:
        next(iter(other.iter_course_pages()))
    assert "e+09" not in excinfo.value.message
    assert other.throttle.pause_epoch() <= time.time() + 121  # what its release would publish


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30 s"), (90, "90 s"), (150, "3 min"), (3600, "60 min"), (7200, "2 hours"),
     (6 * 3600, "6 hours"), (6 * 3600 + 1, "more than 6 hours"), (FAR, "more than 6 hours")],
)  # fmt: skip
def test_long_waits_read_in_human_units(seconds, text):
    assert human_wait(seconds, beyond=6 * 3600) == text


def test_a_wait_of_days_reads_in_days():
    assert human_wait(3 * 86400) == "3 days"


def test_one_far_retry_after_no_longer_bricks_the_organization(
    backend, make_udemy_sandbox, make_integration, run_sync, settings
):
    """The run that meets `Retry-After: 999999999` stops at once with a readable reason; the
    pause it shares lapses after the cap, and the next run of the organization, for another
    group, goes through instead of failing without a request for 31 years. The cap's time passes
    on a travelled clock (time-machine), not in a sleep."""
    settings.UPSTREAM_MAX_SHARED_PAUSE = 120
    sandbox = make_udemy_sandbox(courses=30, paths=0, learners=1)
    first, second = make_integration(sandbox), make_integration(sandbox)
    key = budget_key(sandbox.api_base_url, sandbox.organization_id)
    try:
        sandbox.fail(path_contains="courses/list", status=429, retry_after=FAR)
        with pytest.raises(Reschedule) as excinfo:
            run_sync(first)
        assert "more than 6 hours" in excinfo.value.reason, excinfo.value.reason
        with time_machine.travel(time.time() + 121):  # the cap, and a second, later
            run = run_sync(second)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    finally:
        _forget(backend, key)


@pytest.mark.django_db
def test_the_admin_reads_a_31_year_wait_in_human_units(
    make_udemy_sandbox, make_integration, settings
):
    """The run given up on for waiting past RUN_MAX_WAIT says so in hours, not in 1e+09 s or
    999,999,999 s."""
    from integrations.models import SyncError
    from integrations.services.sync import sync_execute
    from integrations.tasks.common import execute_or_retry

    settings.REDIS_URL = ""
    settings.RUN_MAX_WAIT = 6 * 3600
    sandbox = make_udemy_sandbox(courses=30, paths=0, learners=1)
    run = SyncRun.objects.create(
        integration=make_integration(sandbox), kind="content", trigger="manual"
    )
    sandbox.fail(path_contains="courses/list", status=429, retry_after=FAR)
    task = SimpleNamespace(request=SimpleNamespace(retries=0), max_retries=50, retry=None)
    assert execute_or_retry(task, sync_execute, run.pk) == SyncRun.Status.FAILED
    message = SyncError.objects.get(run=run, category="wait").message
    assert "asks to wait more than 6 hours: waiting" in message, message
    assert "waiting more than 6 hours would take the run past RUN_MAX_WAIT (6 hours" in message
    assert "e+09" not in message and "999,999,999" not in message


# --------------------------------------------------------------------------- 2. endless paging

# page number -> (count, results, next page number or None)
ListShape = Callable[[int], tuple[int | None, list[dict], int | None]]


def list_server(shape: ListShape, requests_made: list[str]) -> Callable:
    """Answer every list request with the page `shape` describes; log each request."""

    def answer(handler):
        requests_made.append(handler.path)
        query = parse_qs(urlsplit(handler.path).query)
        page = int(query.get("page", ["1"])[0])
        count, results, next_page = shape(page)
        base = f"http://{handler.headers['Host']}{urlsplit(handler.path).path}"
        body = json.dumps(
            {
                "count": count,
                "next": None if next_page is None else f"{base}?page={next_page}&page_size=100",
                "previous": None,
                "results": results,
            }
        ).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def _items(page: int, n: int = 100) -> list[dict]:
    return [{"id": page * 1000 + i, "title": f"Course {i}"} for i in range(n)]


SCANS = {
    "courses": lambda client: client.iter_course_pages(),
    "learning paths": lambda client: client.iter_learning_path_pages(),
    "statistics": lambda client: client.iter_user_course_activity_pages(),
}


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_empty_pages_whose_next_points_on_end_the_scan(scan, concurrency):
    """`count: 250`, `results: []` and `next` = page + 1 forever: 5,318 requests in 240 s
    before; now the first empty page with a `next` ends the scan."""
    made: list[str] = []
    answer = list_server(lambda page: (250, [], page + 1), made)
    with hostile_server(answer) as url:
        client = client_for(url)
        client.page_concurrency = concurrency
        with pytest.raises(UdemyBadResponse, match="does not end"):
            list(SCANS[scan](client))
    assert len(made) <= 4


@pytest.mark.parametrize("scan", SCANS)
def test_pages_beyond_the_announced_count_end_the_scan(scan):
    """`count: 250` and one new item per page: the item margin would let 350 pages through;
    the pages the count makes (3) and a small slack bound the scan instead."""
    made: list[str] = []
    answer = list_server(lambda page: (250, _items(page, 1), page + 1), made)
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="announced 250"):
        list(SCANS[scan](client_for(url)))
    assert len(made) <= 5


@pytest.mark.parametrize(
    ("scan", "setting"),
    [("courses", "UDEMY_MAX_CATALOG_PAGES"), ("learning paths", "UDEMY_MAX_CATALOG_PAGES"),
     ("statistics", "UDEMY_MAX_REPORT_PAGES")],
)  # fmt: skip
def test_a_list_without_a_count_ends_at_the_page_ceiling(scan, setting, settings):
    """`count: null` and 100 new ids on every page: 180,000 courses in 90 s before; now the
    scan ends as a bad response past the ceiling of its kind of list."""
    setattr(settings, setting, 30)
    made: list[str] = []
    answer = list_server(lambda page: (None, _items(page), page + 1), made)
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="more than 30 pages"):
        list(SCANS[scan](client_for(url)))
    assert len(made) == 30


def test_the_page_ceilings_leave_room_for_the_largest_organizations():
    from integrations.providers.udemy import pages

    assert pages.MAX_CATALOG_PAGES * 100 >= 150_000  # catalogs: ~30,000 courses
    assert pages.MAX_REPORT_PAGES * 100 >= 1_500_000  # reports: 1,000,000 rows projected


def test_a_page_ceiling_holds_across_time_slices(settings):
    """A scan resumed from its checkpoint (a new time slice) counts pages from the list's
    start, not from where it resumed: the ceiling is not renewed by each slice."""
    settings.UDEMY_MAX_CATALOG_PAGES = 30
    made: list[str] = []
    answer = list_server(lambda page: (None, _items(page), page + 1), made)
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="more than 30"):
        list(client_for(url).iter_course_pages(start_page=25))
    assert len(made) == 6


@pytest.mark.parametrize("scan", SCANS)
def test_a_list_that_only_repeats_itself_ends_after_ten_pages(scan, settings):
    """`count: null` and the same 100 items on every page: 2,000 catalog pages (20,000 report
    pages) before; now the 10th page in a row that lists nothing new ends the scan."""
    settings.UDEMY_MAX_CATALOG_PAGES = settings.UDEMY_MAX_REPORT_PAGES = 2_000
    made: list[str] = []
    answer = list_server(lambda page: (None, _items(1), page + 1), made)
    repeat = r"\(pages 2 to 11\) listing only items already"
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match=repeat):
        list(SCANS[scan](client_for(url)))
    assert len(made) == 11


def test_a_counted_list_that_only_repeats_itself_ends_after_ten_pages():
    """A count of 100 million (a million pages allowed) and two pages' items sent in turn,
    fetched four at a time by number: ends at the 10th page without a new item."""
    made: list[str] = []
    answer = list_server(lambda page: (100_000_000, _items(page % 2), page + 1), made)
    with hostile_server(answer) as url:
        client = client_for(url)
        client.page_concurrency = 4
        with pytest.raises(UdemyBadResponse, match=r"\(pages 3 to 12\) listing only"):
            list(client.iter_course_pages())
    assert len(made) <= 12 + 4 * 2


def test_a_list_that_shifts_while_it_is_read_is_not_ended_by_repeats(settings):
    """Half of every page already listed (items moving onto the next page as the list grows):
    every page brings new items, so only the page ceiling ends this endless list."""
    settings.UDEMY_MAX_CATALOG_PAGES = 30
    made: list[str] = []
    answer = list_server(
        lambda page: (None, _items(page - 1, 50)[50:] + _items(page - 1)[50:] + _items(page, 50),
                      page + 1), made,
    )  # fmt: skip
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="more than 30 pages"):
        list(client_for(url).iter_course_pages())
    assert len(made) == 30


def test_the_memory_of_a_scan_s_items_does_not_grow_with_them():
    """2 million report rows noted (the report ceiling x 100): the filter stays its 2 MiB,
    and none of 1,000 rows after them reads as seen."""
    from integrations.providers.udemy.page_progress import FILTER_BITS, ScanProgress, item_id

    progress = ScanProgress(item_id)
    for number in range(1, 20_001):
        progress.saw(number, [{"id": number * 100 + i} for i in range(100)])
    assert len(progress.bits) == FILTER_BITS // 8 == 2 * 2**20
    assert progress.stale == 0
    progress.saw(20_001, [{"id": -n} for n in range(1, 1_001)])
    assert progress.stale == 0


def _hostile_integration(make_integration, url: str):
    upstream = SimpleNamespace(
        client_id="hostile-client",
        client_secret="s3cr3t/With+Base64=Chars",
        organization_name="demo",
        organization_id="4242",
        api_base_url=f"{url}/api-2.0/organizations/4242/",
    )
    return make_integration(upstream)


@pytest.mark.django_db
def test_a_sync_of_a_list_that_never_ends_fails_after_a_bounded_number_of_requests(
    make_integration, run_sync, settings
):
    """Through the whole run: the sync ends with the ceiling's error (partial: the pages before
    it are kept; the scan is incomplete, so nothing is archived) after at most the ceiling's
    worth of requests (counted, not timed), having created at most the ceiling's worth of
    courses."""
    settings.UDEMY_MAX_CATALOG_PAGES = 20
    settings.REDIS_URL = ""
    made: list[str] = []
    answer = list_server(lambda page: (None, _items(page), page + 1), made)
    with hostile_server(answer) as url:
        run = run_sync(_hostile_integration(make_integration, url))
    assert run.status in (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL), run.status
    assert "more than 20 pages" in run.error_summary
    assert len(made) <= 20
    assert Course.objects.filter(integration=run.integration).count() <= 2_000


# --------------------------------------------------------------------------- 3. page weight


def test_a_page_with_more_items_than_asked_for_is_refused():
    made: list[str] = []
    answer = list_server(lambda page: (101, _items(page, 101), None), made)
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="more than the 100"):
        list(client_for(url).iter_course_pages())


@pytest.mark.parametrize("scan", SCANS)
def test_a_200000_item_page_is_refused(scan):
    """One page of 200,000 `{"id": N, "title": "t"}` (728 MB on SQLite, four fetched at
    once): refused before it is mapped or stored."""
    results = [{"id": n, "title": "t"} for n in range(200_000)]
    answer = list_server(lambda page: (200_000, results, None), [])
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="larger than 5 MB"):
        list(SCANS[scan](client_for(url)))


def _peak_while_refused(body: bytes, match: str) -> int:
    """The traced peak (bytes) of fetching one page whose body is `body` (built before tracing
    starts, served as it is), which must be refused with `match`."""

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with hostile_server(answer) as url:
        client = client_for(url)
        tracemalloc.start()
        try:
            with pytest.raises(UdemyBadResponse, match=match):
                list(client.iter_course_pages())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def _page_body(results: list, count: int | None = None) -> bytes:
    page = {"count": count, "next": None, "previous": None, "results": results}
    return json.dumps(page, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "results",
    [[{"id": n} for n in range(200_000)], [{}] * 1_600_000],
    ids=["200,000 ids", "1.6 million empty objects"],
)
def test_a_dense_page_under_the_size_limit_is_refused_as_it_is_parsed(results):
    """200,000 `{"id": N}` (2.6 MB) or 1.6 million `{}` (4.6 MB), under the list-page limit:
    48 MB and 110 MB traced before, the whole page decoded before its count refused it; now
    the count stops the parse at the 101st item, and the peak is the body read (and a little)."""
    body = _page_body(results, count=len(results))
    assert len(body) < 5 * 2**20
    peak = _peak_while_refused(body, "more than the 100 items asked for on page 1")
    assert peak < len(body) * 1.3 + 2 * 2**20, peak
    assert peak < 10 * 2**20, peak


def test_a_page_dense_outside_its_items_is_refused_as_it_is_parsed():
    """100 items, and 1.6 million `[]` beside them or inside one item: refused by the values a
    page of 100 items may hold, without decoding it."""
    beside = {"count": 1, "next": None, "previous": None, "junk": [[]] * 1_600_000,
              "results": [{"id": 1}]}  # fmt: skip
    inside = _page_body([{"id": 1, "junk": [[]] * 1_600_000}], count=1)
    for body in (json.dumps(beside, separators=(",", ":")).encode(), inside):
        assert len(body) < 5 * 2**20
        peak = _peak_while_refused(body, "more than 200000 values")
        assert peak < 10 * 2**20, peak


@pytest.mark.parametrize("depth", [5_000, 1_000_000])
def test_a_page_nested_too_deeply_is_refused_as_a_bad_response(depth):
    """`[[[[…` 5,000 deep (10 KB) ended the run as an unexpected RecursionError of the
    decoder; a million deep (2 MB) is refused by the values a page may hold."""
    nested = b"[" * depth + b"]" * depth
    body = b'{"count":1,"next":null,"previous":null,"results":[' + nested + b"]}"
    match = "nested too deeply" if depth < 100_000 else "more than 200000 values"
    _peak_while_refused(body, match)


def test_a_normal_page_is_not_walked_and_a_rich_one_is_accepted(monkeypatch):
    """100 items with every field (as the sandbox serves them) are not walked by the streaming
    parser (their separators show few values); a page of 100 items of 1,500 values each is
    walked and accepted."""
    from integrations.providers.udemy import page_body
    from integrations.sandboxes.udemy.data import UdemyData
    from integrations.sandboxes.udemy.server import SERVED_AS

    data = UdemyData.generate(courses=100, paths=100, learners=1)
    walked: list[int] = []
    real_parse = page_body.ijson.basic_parse
    monkeypatch.setattr(
        page_body.ijson, "basic_parse", lambda *a, **k: walked.append(1) or real_parse(*a, **k)
    )
    site = "https://demo.udemy.com"
    for kind in ("courses", "learning_paths"):
        items = [SERVED_AS[kind](item, site) for item in getattr(data, kind)]
        assert len(items) == 100
        page_body.refuse_dense_page(_page_body(items, 100), 100, 1)
    assert walked == []
    rich = [{"id": n, "values": list(range(1_500))} for n in range(100)]
    answer = list_server(lambda page: (100, rich, None), [])
    with hostile_server(answer) as url:
        pages = list(client_for(url).iter_course_pages())
    assert walked == [1]
    assert len(pages[0].results) == 100


def test_a_list_page_heavier_than_its_limit_is_refused_below_the_general_limit(settings):
    settings.UPSTREAM_MAX_BODY_MB = 20
    settings.UDEMY_MAX_PAGE_MB = 1
    results = [{"id": n, "title": "t" * 20_000} for n in range(100)]  # 2 MB
    answer = list_server(lambda page: (100, results, None), [])
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="larger than 1 MB"):
        list(client_for(url).iter_course_pages())


@pytest.mark.django_db
def test_a_sync_refuses_a_huge_page_before_storing_anything(make_integration, run_sync, settings):
    settings.REDIS_URL = ""
    results = [{"id": n, "title": "t"} for n in range(200_000)]
    answer = list_server(lambda page: (200_000, results, None), [])
    with hostile_server(answer) as url:
        run = run_sync(_hostile_integration(make_integration, url))
    assert run.status == SyncRun.Status.FAILED, run.status
    assert "larger than 5 MB" in run.error_summary
    assert Course.objects.filter(integration=run.integration).count() == 0
