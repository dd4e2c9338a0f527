"""Upstream JSON is read strictly, as the APIs document it: UTF-8 without a byte-order mark, no
NaN or Infinity. A large dense page that strict JSON refuses is refused while it is walked (the
lenient decoder would have built it whole first)."""

from __future__ import annotations

import pytest
import requests

from integrations.core.response_body import decode_json
from integrations.providers.udemy.errors import UDEMY_ERRORS, UdemyBadResponse
from integrations.providers.udemy.page_body import refuse_dense_page


def dense(extra: bytes = b"", size: int = 2 * 2**20) -> bytes:
    head = b'{"count":1,"next":null,' + extra + b'"results":['
    return head + b",".join([b"{}"] * ((size - len(head)) // 3)) + b"]}"


@pytest.mark.parametrize(
    "body",
    [
        dense(b'"x":NaN,'),
        dense(b'"x":-Infinity,'),
        b"\xef\xbb\xbf" + dense(),
        dense().decode().encode("utf-16-le"),
    ],
    ids=["NaN", "Infinity", "BOM", "UTF-16"],
)
def test_a_dense_page_strict_json_refuses_is_refused_while_walked(body):
    with pytest.raises(UdemyBadResponse, match=r"not strict JSON"):
        refuse_dense_page(body, 100, 3)


def response(content: bytes) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer._content = 200, content
    answer.headers["Content-Type"] = "application/json"
    return answer


@pytest.mark.parametrize(
    "content",
    [
        b'{"count": NaN}',
        b'{"x": Infinity}',
        b'\xef\xbb\xbf{"count": 1}',
        '{"a": 1}'.encode("utf-16"),
    ],
)
def test_the_decoder_refuses_what_strict_json_does_not_allow(content):
    with pytest.raises(UdemyBadResponse, match="not JSON"):
        decode_json(response(content), "GET", vendor="Udemy", errors=UDEMY_ERRORS, excerpt=str)


def test_strict_json_still_reads_a_normal_page():
    data = decode_json(
        response('{"count": 1, "results": [{"title": "Café ✓"}]}'.encode()),
        "GET", vendor="Udemy", errors=UDEMY_ERRORS, excerpt=str,
    )  # fmt: skip
    assert data["results"][0]["title"] == "Café ✓"
