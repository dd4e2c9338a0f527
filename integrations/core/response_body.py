"""An upstream answer's body for `core.http.JsonHttpClient`: read bounded, then decoded as JSON.

Reading is bounded three ways: in size (`UPSTREAM_MAX_BODY_MB`, or the request's own smaller
limit), counted after decompression and one bounded chunk at a time so a gzip bomb is stopped
as it inflates; and in total time (`UPSTREAM_RESPONSE_DEADLINE`), since a body trickling in a
byte at a time never trips the read timeout. A connection cut mid-body is a
`requests.ConnectionError`, which the client retries like any network failure.

Decoding uses `json.loads`; any failure is the side's `bad_response` (requests'
`JSONDecodeError` is a `RequestException`, not something to hand to a generic retry). HTTP
only: no retry policy here, the client decides what a refused body means.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import requests
import urllib3

from .errors import ErrorFamily
from .netutil import setting_or

BODY_CHUNK = 64 * 1024  # bytes of decompressed body read at a time


def read_body(
    response: requests.Response, *, vendor: str, errors: ErrorFamily, own_limit: int | None
) -> None:
    """Read the (decompressed) body into `response`, refusing one larger than
    `UPSTREAM_MAX_BODY_MB` or the request's own `own_limit` (a gzip bomb is stopped as it
    inflates, one bounded chunk at a time) or slower, in total, than
    `UPSTREAM_RESPONSE_DEADLINE` (a body trickling in a byte at a time never trips the read
    timeout)."""
    limit = int(float(setting_or(None, "UPSTREAM_MAX_BODY_MB", 20)) * 2**20)
    limit = min(limit, own_limit) if own_limit else limit
    deadline_s = float(setting_or(None, "UPSTREAM_RESPONSE_DEADLINE", 120.0))
    deadline = time.monotonic() + deadline_s
    # One growing buffer, handed over without a copy (`getvalue`): a list of chunks joined at
    # the end would hold the body twice at its peak.
    buffer, size = io.BytesIO(), 0
    try:
        while chunk := response.raw.read1(BODY_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise errors.bad_response(
                    f"{vendor} sent a body larger than {limit / 2**20:g} MB: refused.",
                    status=response.status_code,
                )
            if time.monotonic() > deadline:
                raise errors.unavailable(
                    f"{vendor} took more than {deadline_s:g} s to send one answer: refused."
                )
            buffer.write(chunk)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.ConnectionError(f"body: {type(exc).__name__}") from None
    finally:
        response.close()
    response._content = buffer.getvalue()  # what `.content` and `.text` read from now on


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(
    response: requests.Response,
    method: str,
    *,
    vendor: str,
    errors: ErrorFamily,
    excerpt: Callable[[str], str],
) -> Any:
    """The JSON of a 2xx body already read; `{}` for a write's (or a 204's) empty answer.
    `excerpt` makes the start of a refused body safe to keep (the client's, secrets removed)."""
    if not response.content.strip():
        if method == "GET" and response.status_code != 204:
            raise errors.bad_response(
                f"{vendor} answered with an empty body.", status=response.status_code
            )
        return {}  # a write's empty answer
    try:
        # Strict JSON, as the APIs document: UTF-8 without a byte-order mark, no NaN or
        # Infinity (json.loads accepts all of these by default).
        return json.loads(response.content.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:  # `[[[[…` a few thousand deep: valid JSON the decoder cannot build
        raise errors.bad_response(
            f"{vendor} answered with JSON nested too deeply to be read.",
            status=response.status_code,
            excerpt=excerpt(response.text[:200]),
        ) from None
    except (ValueError, UnicodeDecodeError):
        ctype = response.headers.get("Content-Type", "no content type").split(";")[0]
        raise errors.bad_response(
            f"{vendor} answered with a body that is not JSON ({ctype}).",
            status=response.status_code,
            excerpt=excerpt(response.text),
        ) from None
