"""Promise: an upstream that is huge, slow or hostile ends a request with its own clear error,
within the client's limits, and never puts the credentials anywhere (Udemy client on the core
HTTP client; the learning-platform clients share the same code)."""

from __future__ import annotations

import base64
import json
import time
import zlib
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.providers.udemy.client import (
    UdemyBadResponse,
    UdemyClient,
    UdemyCredentials,
    UdemyError,
    UdemyUnavailable,
)
from tests.hostile_server import hostile_server

SECRET = "s3cr3t/With+Base64=Chars"
CLIENT_ID = "hostile-client"


def client_for(base_url: str, **kwargs) -> UdemyClient:
    credentials = UdemyCredentials(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        organization_name="demo",
        organization_id="4242",
        api_base_url=f"{base_url}/api-2.0/organizations/4242/",
    )
    kwargs.setdefault("allowed_hosts", ["127.0.0.1"])
    kwargs.setdefault("max_retries", 0)
    return UdemyClient(credentials, **kwargs)


def first_page(client: UdemyClient):
    return next(iter(client.iter_course_pages()))


def secret_forms() -> list[str]:
    token = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    return [SECRET, token, f"{CLIENT_ID}:{SECRET}", token.replace("/", "\\/"), "s3cr3t%2FWith"]


def test_a_gzip_bomb_is_refused_without_inflating_it(settings):
    """A 1 MB gzip body that inflates to 1 GB: refused once the inflated size passes the cap."""
    settings.UPSTREAM_MAX_BODY_MB = 5
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    block = b"\0" * (1 << 20)
    bomb = b"".join(compressor.compress(block) for _ in range(1024)) + compressor.flush()
    assert len(bomb) < 2 << 20

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="larger than 5 MB"):
        first_page(client_for(url))


def test_an_oversized_body_is_refused(settings):
    settings.UPSTREAM_MAX_BODY_MB = 2
    chunk = b" " * (1 << 20)

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(50 * len(chunk)))
        handler.end_headers()
        for _ in range(50):
            handler.wfile.write(chunk)

    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="larger than 2 MB"):
        first_page(client_for(url))


def test_a_body_trickling_in_hits_the_response_deadline(settings):
    """Slowloris: a byte every 0.3 s never trips the read timeout; the total deadline ends it
    (the server had sent a few of its 100 bytes when the client gave up: counted, not timed)."""
    settings.UPSTREAM_RESPONSE_DEADLINE = 1.5
    sent: list[int] = []

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            sent.append(1)
            time.sleep(0.3)  # the upstream's pace

    with hostile_server(answer) as url, pytest.raises(UdemyUnavailable, match=r"1\.5 s"):
        first_page(client_for(url, read_timeout=5))
    assert 0 < len(sent) < 100  # ended by the deadline, not by the end of the 30 s body


@pytest.mark.parametrize("status", [400, 500])
def test_an_upstream_echoing_the_credentials_gets_them_scrubbed(status):
    """The detail and the body of an error answer may carry the Authorization header, the
    secret, or either escaped: none of it survives into the error's message or excerpt."""

    def answer(handler):
        echoed = handler.headers.get("Authorization", "")
        token = echoed.split()[-1]
        body = json.dumps(
            {
                "detail": f"bad header {echoed} for {CLIENT_ID}:{SECRET}",
                "escaped": token.replace("/", "\\/"),
                "quoted": "s3cr3t%2FWith%2BBase64%3DChars",
            }
        ).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with hostile_server(answer) as url, pytest.raises(UdemyError) as excinfo:
        first_page(client_for(url))
    texts = [excinfo.value.message, excinfo.value.excerpt, str(excinfo.value)]
    for text in texts:
        for form in secret_forms():
            assert form not in text, (form, text)
    assert "***" in excinfo.value.message


def endless_pages(count: int, next_page: Callable[[int], int]) -> Callable:
    """Pages of 100 items announcing `count`, whose `next` is `next_page(this page)`."""

    def answer(handler):
        page = int(parse_qs(urlsplit(handler.path).query).get("page", ["1"])[0])
        base = f"http://{handler.headers['Host']}{urlsplit(handler.path).path}"
        items = [{"id": page * 1000 + i, "title": f"Course {i}"} for i in range(100)]
        body = json.dumps(
            {
                "count": count,
                "next": f"{base}?page={next_page(page)}&page_size=100",
                "previous": None,
                "results": items,
            }
        ).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def test_a_next_link_that_goes_back_ends_the_scan_with_its_own_error():
    """A `next` that loops (page 3 → page 2 → page 3 …) would page forever."""
    answer = endless_pages(count=1_000_000, next_page=lambda page: 2 if page == 3 else page + 1)
    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="does not advance"):
        list(client_for(url).iter_course_pages())


def test_more_items_than_the_announced_count_end_the_scan():
    """`count: 250` and a `next` on every page: the client stops past the count and a margin,
    instead of fetching 324,500 items for a 250-course catalog."""
    requests_made = []

    def answer(handler):
        requests_made.append(handler.path)
        return endless_pages(count=250, next_page=lambda page: page + 1)(handler)

    with hostile_server(answer) as url, pytest.raises(UdemyBadResponse, match="announced 250"):
        list(client_for(url).iter_course_pages())
    assert len(requests_made) <= 5
