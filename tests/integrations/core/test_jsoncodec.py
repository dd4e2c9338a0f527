"""The JSON the hot path writes (orjson) is what the standard library writes or the same value:
canonical text independent of key order, what orjson refuses written by `json` itself, and the
bulk statements' rows as `json.dumps` with an ISO 8601 hook writes them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.core import jsoncodec

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits: through json
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_the_canonical_form_reads_back_and_ignores_key_order(value):
    reordered = dict(reversed(list(value.items())))
    assert jsoncodec.canonical(value) == jsoncodec.canonical(reordered)
    assert json.loads(jsoncodec.canonical(value)) == value


def test_values_orjson_cannot_write_go_through_json():
    assert json.loads(jsoncodec.canonical({"big": 2**70, "s": "\ud800x"[1:]})) == {
        "big": 2**70,
        "s": "x",
    }
    assert jsoncodec.canonical({"s": "\ud800"}) == '{"s":"\ud800"}'.encode("utf-8", "surrogatepass")


def _iso(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 5, 7, 30, tzinfo=UTC),
        datetime(2026, 12, 5, 7, 30, 0, 123456, tzinfo=UTC),
        datetime(2026, 12, 5, 7, 30, tzinfo=timezone(timedelta(hours=1))),
        date(2026, 12, 5),
        time(7, 45),
        time(7, 45, tzinfo=UTC),  # orjson refuses an aware time: json writes it
        "été",
        [1, (2, 3)],
    ],
)
def test_dumps_writes_what_json_with_an_isoformat_hook_writes(value):
    expected = json.dumps([value], default=_iso, separators=(",", ":"), ensure_ascii=False)
    assert jsoncodec.dumps([value], default=_iso) == expected


def test_dumps_fails_as_the_hook_says_for_an_unknown_type():
    with pytest.raises(TypeError):
        jsoncodec.dumps([object()], default=_iso)
