"""Properties of the Udemy mapping over messy payloads (hypothesis).

- map_course / map_learning_path / map_activity only ever raise MappingError, with a known
  category, and never through the "unexpected failure" fallback: the inputs below (None, lists,
  numbers, random dicts, wrong-typed and nested-garbage fields, NUL and lone surrogates, huge
  numbers, NaN) are all handled on purpose;
- a record that comes out respects the columns it is stored in (non-empty title and lang,
  http(s) URLs or "", progress within 0..100, aware UTC datetimes …);
- mapping is pure and deterministic: same input → same record and fingerprint, whatever the key
  order of the JSON objects, and the input is never modified.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.core.records import CourseRecord, MappingError, StatRecord
from integrations.providers.udemy.mapping import (
    MAX_MINUTES,
    MAX_TITLE,
    UNEXPECTED,
    map_activity,
    map_course,
    map_learning_path,
    normalize_lang,
)

CATEGORIES = {"invalid_item", "invalid_date", "invalid_value"}
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- strategies

nasty_chars = st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udfff", "\u202e"]))
texts = st.text(nasty_chars, max_size=12)
interesting = st.sampled_from(
    [
        "",
        "  ",
        "Anonymized User",
        "ada@example.com",
        "2024-01-02",
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05+02:00",
        "2024-02-30",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "https://x.test/a",
        "http://x.test/b?c=1&d=2",
        "javascript:alert(1)",
        "/relative",
        "http://[::1",
        "720",
        "1080",
        "Auto",
        "0.35",
        "-1",
        "nan",
        "inf",
        "1e400",
        "pt_BR",
        "en_US",
        "zz",
        "9" * 70,
        "  42 ",
        "<p>x<script>alert(1)</script></p>",
        '<a href="javascript:x" onclick=y>l</a>',
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**60, max_value=10**80),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    interesting,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(texts, interesting), children, max_size=4),
    ),
    max_leaves=12,
)


def maybe(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, one time in ten anything at all.

    Rare enough junk that many items still map, so the record invariants get exercised too.
    """
    junk = st.integers(min_value=0, max_value=9).map(lambda n: n == 0)
    return junk.flatmap(lambda is_junk: json_values if is_junk else plausible)


ids = maybe(
    st.one_of(st.integers(min_value=-3, max_value=10**12), st.from_regex(r"\A ?[0-9]{1,8} ?\Z"))
)
numbers = maybe(
    st.one_of(
        st.integers(min_value=-5, max_value=10**6),
        st.floats(min_value=-1, max_value=10**6),
        st.floats(min_value=0, max_value=1),
        st.sampled_from(["0.35", "42", " 7 ", "1e3"]),
    )
)
dates = maybe(
    st.one_of(
        st.none(),
        st.dates().map(str),
        st.datetimes().map(lambda d: d.isoformat()),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        interesting,
    )
)
urls = maybe(
    st.one_of(interesting, st.from_regex(r"\Ahttps?://[a-z]{1,8}\.test/[a-z0-9/]{0,12}\Z"))
)
names = maybe(
    st.lists(
        st.one_of(
            texts,
            st.fixed_dictionaries({}, optional={"display_name": texts, "title": texts}),
        ),
        max_size=4,
    )
)
image_keys = st.one_of(st.from_regex(r"\Asize_[0-9]{1,4}(x[0-9]{1,4}|_H)\Z"), texts)
images = maybe(st.dictionaries(image_keys, urls, max_size=5))
promo = maybe(
    st.lists(
        st.fixed_dictionaries(
            {}, optional={"label": maybe(interesting), "file": urls, "type": texts}
        ),
        max_size=4,
    )
)
locales = maybe(
    st.one_of(
        st.fixed_dictionaries(
            {"_class": st.just("locale")}, optional={"locale": maybe(interesting)}
        ),
        interesting,
        texts,
    )
)
section_items = st.lists(
    st.fixed_dictionaries({}, optional={"title": maybe(texts), "url": urls, "order": numbers}),
    max_size=4,
)
sections = maybe(
    st.lists(
        st.fixed_dictionaries(
            {}, optional={"title": maybe(texts), "order": numbers, "items": maybe(section_items)}
        ),
        max_size=3,
    )
)
html_texts = maybe(st.one_of(interesting, texts))

messy_course = st.fixed_dictionaries(
    {"id": ids, "title": maybe(texts)},
    optional={
        "description": html_texts,
        "url": urls,
        "estimated_content_length": numbers,
        "categories": names,
        "instructors": names,
        "locale": locales,
        "images": images,
        "promo_video_url": promo,
        "last_update_date": dates,
        "headline": json_values,
    },
)
messy_path = st.fixed_dictionaries(
    {"id": ids, "title": maybe(texts)},
    optional={
        "description": html_texts,
        "url": urls,
        "last_modified": dates,
        "estimated_content_length": numbers,
        "categories": names,
        "editors": names,
        "thumbnail": maybe(st.one_of(urls, images)),
        "sections": sections,
    },
)
messy_activity = st.fixed_dictionaries(
    {"course_id": ids, "user_email": maybe(st.one_of(interesting, texts))},
    optional={
        "course_enroll_date": dates,
        "course_start_date": dates,
        "course_last_accessed_date": dates,
        "course_completion_date": dates,
        "completion_ratio": numbers,
        "num_video_consumed_minutes": numbers,
        "user_is_deactivated": json_values,
    },
)
default_langs = st.one_of(interesting, texts, st.sampled_from(["fr", "de_DE", "pt_BR"]))


# --------------------------------------------------------------------------- helpers


def outcome(call: Any, raw: Any, **kwargs: Any) -> Any:
    """The record, or the MappingError after checking it is a deliberate one."""
    try:
        return call(raw, **kwargs)
    except MappingError as caught:
        error = caught
    assert error.category in CATEGORIES
    # The fallback chains the original exception: a deliberate error has no cause.
    assert not error.message.startswith(UNEXPECTED), repr(error.__cause__)
    assert error.__cause__ is None
    assert isinstance(error.external_id, str)
    assert len(error.excerpt) <= 200
    return error


def reversed_keys(value: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reversed_keys(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


def same_outcome(one: Any, two: Any) -> bool:
    if isinstance(one, MappingError) and isinstance(two, MappingError):
        return (one.external_id, one.category, one.message) == (
            two.external_id,
            two.category,
            two.message,
        )
    return one == two and one.fingerprint == two.fingerprint


def check_url(url: str) -> None:
    assert url == "" or url.startswith(("http://", "https://"))


def check_course_record(record: CourseRecord, *, sync_tags: bool) -> None:
    assert record.external_id.isdigit()
    assert record.title.strip() == record.title
    assert 0 < len(record.title) <= MAX_TITLE
    assert record.name == record.title
    assert record.lang
    assert len(record.lang) <= 10
    for url in (record.image, record.video_url, record.launch_url):
        check_url(url)
    assert record.duration_minutes is None or 0 <= record.duration_minutes <= MAX_MINUTES
    assert all(a and a == a.strip() for a in record.authors)
    assert all(t and t == t.strip() and len(t) <= 200 for t in record.tag_names)
    assert sync_tags or record.tag_names == ()
    assert record.modified_at is None or record.modified_at.tzinfo is UTC
    assert "<script" not in record.description.lower()
    assert "\x00" not in record.title + record.description
    assert len(record.fingerprint) == 64


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(raw=st.one_of(messy_course, json_values), sync_tags=st.booleans(), lang=default_langs)
def test_map_course_only_raises_mapping_error(raw: Any, sync_tags: bool, lang: str) -> None:
    """360Learning table "Udemy courses", any input: a valid record or a deliberate MappingError."""
    result = outcome(map_course, raw, sync_tags=sync_tags, default_lang=lang)
    if isinstance(result, CourseRecord):
        assert result.kind == "course"
        check_course_record(result, sync_tags=sync_tags)


@PROPERTY_SETTINGS
@given(raw=st.one_of(messy_path, json_values), sync_tags=st.booleans())
def test_map_learning_path_only_raises_mapping_error(raw: Any, sync_tags: bool) -> None:
    """360Learning table "Udemy learning paths", any input: a valid record or a MappingError."""
    result = outcome(map_learning_path, raw, sync_tags=sync_tags)
    if isinstance(result, CourseRecord):
        assert result.kind == "learning_path"
        assert result.title.startswith("[Learning Path] ")
        assert result.lang == "en"
        assert result.video_url == ""
        check_course_record(result, sync_tags=sync_tags)


@PROPERTY_SETTINGS
@given(raw=st.one_of(messy_activity, json_values))
def test_map_activity_only_raises_mapping_error(raw: Any) -> None:
    """360Learning table "Statistics", any input: a record within range or a MappingError."""
    result = outcome(map_activity, raw)
    if isinstance(result, StatRecord):
        assert result.external_course_id.isdigit()
        assert 0.0 <= result.progress <= 100.0
        assert result.time_spent_ms >= 0
        assert result.email == result.email.strip()
        assert result.email_key == result.email.lower()
        assert result.is_anonymized == (
            result.email == "" or result.email.casefold() == "anonymized user"
        )
        for moment in (result.first_activity, result.last_activity, result.completed_at):
            assert moment is None or moment.tzinfo is UTC


@PROPERTY_SETTINGS
@given(raw=messy_course, sync_tags=st.booleans(), lang=default_langs)
def test_map_course_is_deterministic_and_pure(raw: dict, sync_tags: bool, lang: str) -> None:
    """Fingerprint deterministic: same item (any key order) → same record; input untouched."""
    before = repr(raw)
    kwargs = {"sync_tags": sync_tags, "default_lang": lang}
    first = outcome(map_course, raw, **kwargs)
    again = outcome(map_course, copy.deepcopy(raw), **kwargs)
    shuffled = outcome(map_course, reversed_keys(raw), **kwargs)
    assert same_outcome(first, again)
    assert same_outcome(first, shuffled)
    assert repr(raw) == before


@PROPERTY_SETTINGS
@given(raw=messy_path, sync_tags=st.booleans())
def test_map_learning_path_is_deterministic_and_pure(raw: dict, sync_tags: bool) -> None:
    """Fingerprint deterministic for learning paths, whatever the key order."""
    before = repr(raw)
    first = outcome(map_learning_path, raw, sync_tags=sync_tags)
    shuffled = outcome(map_learning_path, reversed_keys(raw), sync_tags=sync_tags)
    assert same_outcome(first, shuffled)
    assert repr(raw) == before


@PROPERTY_SETTINGS
@given(raw=messy_activity)
def test_map_activity_is_deterministic_and_pure(raw: dict) -> None:
    """Fingerprint deterministic for statistics, whatever the key order."""
    before = repr(raw)
    first = outcome(map_activity, raw)
    shuffled = outcome(map_activity, reversed_keys(raw))
    assert same_outcome(first, shuffled)
    assert repr(raw) == before


@PROPERTY_SETTINGS
@given(
    ratio=st.one_of(
        st.none(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=0, max_value=1),
        st.decimals(min_value=0, max_value=100, places=4).map(str),
    )
)
def test_progress_is_always_within_0_and_100(ratio: Any) -> None:
    """360Learning: completion_ratio → progress 0-100; out of range → invalid_value, never
    stored."""
    result = outcome(
        map_activity, {"course_id": 1, "user_email": "a@b.c", "completion_ratio": ratio}
    )
    if isinstance(result, MappingError):
        assert result.category == "invalid_value"
    else:
        assert 0.0 <= result.progress <= 100.0


@PROPERTY_SETTINGS
@given(locale=st.one_of(st.none(), interesting, texts), default=st.one_of(interesting, texts))
def test_lang_is_never_empty(locale: str | None, default: str) -> None:
    """360Learning: locale.locale → lang, else the owner's language: never empty, fits the
    column."""
    lang = normalize_lang(locale, default)
    assert lang
    assert len(lang) <= 10
    assert lang.isascii()
    assert lang == lang.strip()


# --------------------------------------------------------------------------- URL checks


def _http_url_reference(value: Any, max_length: int = 1000) -> str:
    """The full check alone (what `_http_url` did before its fast path for plain URLs)."""
    import re
    from urllib.parse import urlsplit

    from integrations.core.sanitize import scrub_text

    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or len(url) > max_length or re.search(r"[\x00-\x1f\s]", url):
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    return scrub_text(url)


URLISH = st.builds(
    lambda scheme, host, rest: f"{scheme}{host}{rest}",
    st.sampled_from(["http://", "https://", "HTTP://", "hTtPs://", "ftp://", "http:/", "//", ""]),
    st.one_of(
        st.from_regex(r"[A-Za-z0-9.-]{0,20}", fullmatch=True),
        st.text(max_size=12),
        st.sampled_from(["[::1]", "a:80", "u@h", "[bad", "é.test", "h\u2100", "\x00h"]),
        st.builds(  # ports, good and bad
            "{}:{}".format,
            st.from_regex(r"[a-z0-9.]{1,8}", fullmatch=True),
            st.one_of(st.from_regex(r"[0-9]{0,7}", fullmatch=True), st.text(max_size=4)),
        ),
    ),
    st.one_of(st.text(max_size=30), st.from_regex(r"[/?#][\x21-\x7e]{0,30}", fullmatch=True)),
)


@PROPERTY_SETTINGS
@given(value=st.one_of(URLISH, st.text(max_size=40)))
def test_the_plain_url_fast_path_agrees_with_the_full_check(value: str) -> None:
    from integrations.providers.udemy.media import _http_url

    assert _http_url(value, 1000) == _http_url_reference(value)


def _pick_video_reference(promo: list) -> str:
    """Every rendition checked in order: the largest label with a usable file, first on a tie."""
    from integrations.providers.udemy.media import _http_url, _video_rank

    best, best_rank = "", -2
    for entry in promo:
        if not isinstance(entry, dict):
            continue
        url = _http_url(entry.get("file"), 2000)
        rank = _video_rank(entry.get("label"))
        if url and rank > best_rank:
            best, best_rank = url, rank
    return best


RENDITION = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "label": st.one_of(
                st.sampled_from(["720", "1080", "480p", "Auto", "", " 360"]),
                st.integers(-5, 5000),
                st.floats(allow_nan=True),
                st.none(),
                st.booleans(),
            ),
            "file": st.one_of(
                st.sampled_from(["https://v.test/a", "https://v.test/b", "nope", " "]),
                st.none(),
                st.integers(),
            ),
        },
    ),
    st.none(),
    st.integers(),
)


@PROPERTY_SETTINGS
@given(promo=st.lists(RENDITION, max_size=8))
def test_pick_video_checks_the_best_renditions_first_with_the_same_choice(promo: list) -> None:
    from integrations.providers.udemy.media import pick_video

    assert pick_video(promo) == _pick_video_reference(promo)


def _pick_image_reference(images: dict) -> str:
    """Every size ranked on each call: the largest area with a usable URL, ties by key."""
    from integrations.providers.udemy.media import _http_url, _image_area

    ranked = sorted(images.items(), key=lambda kv: (_image_area(str(kv[0])), str(kv[0])))
    for _, value in reversed(ranked):
        if url := _http_url(value):
            return url
    return ""


SIZE_KEYS = st.one_of(
    st.sampled_from(["size_48x27", "size_125_H", "size_200_H", "size_480x270", "size_750x422"]),
    st.from_regex(r"(size_)?[0-9]{1,4}(x[0-9]{1,4}|_[Hh])?", fullmatch=True),
    st.text(max_size=6),
)


@PROPERTY_SETTINGS
@given(
    images=st.dictionaries(
        SIZE_KEYS,
        st.one_of(
            st.sampled_from(["https://i.test/a.jpg", "http://127.0.0.1:8001/b.svg"]),
            URLISH,
            st.none(),
            st.integers(),
        ),
        max_size=8,
    ),
    again=st.booleans(),
)
def test_pick_image_ranks_its_keys_once_with_the_same_choice(images: dict, again: bool) -> None:
    from integrations.providers.udemy.media import pick_image

    if again:  # a second call reads the cached ranking of the same keys
        pick_image(images)
    assert pick_image(images) == _pick_image_reference(images)


def _json_fingerprint(record: Any) -> str:
    """The record fingerprint as `json.dumps` writes it (what stored fingerprints were made
    with): every field, keys sorted, compact, datetimes in ISO 8601."""
    import dataclasses
    import hashlib
    import json

    data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    text = json.dumps(
        dict(sorted(data.items())),
        separators=(",", ":"),
        ensure_ascii=False,
        default=lambda value: value.isoformat(),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=12)
UTC_TIMES = st.none() | st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC))


@PROPERTY_SETTINGS
@given(
    texts=st.lists(ANY_TEXT, min_size=8, max_size=8),
    duration=st.none() | st.integers(),
    authors=st.lists(ANY_TEXT, max_size=3).map(tuple),
    modified=UTC_TIMES,
)
def test_a_course_fingerprint_is_the_bytes_json_writes(texts, duration, authors, modified):
    kind, external_id, title, name, description, image, lang, video = texts
    record = CourseRecord(
        kind=kind, external_id=external_id, title=title, name=name, description=description,
        image=image, duration_minutes=duration, authors=authors, lang=lang,
        tag_names=authors[::-1], video_url=video, launch_url=image, modified_at=modified,
    )  # fmt: skip
    assert record.fingerprint == _json_fingerprint(record)


@PROPERTY_SETTINGS
@given(
    # Every float (orjson writes those `_same_text` accepts; `json` the others), and many from
    # a ratio's range and from around the limits of `repr`'s positional form.
    progress=st.floats()
    | st.floats(0, 100)
    | st.floats(1e-5, 1e-3)
    | st.floats(1e14, 1e17)
    | st.sampled_from([-0.0, 1e-4, 9.999999999999999e-05, 1e15, 9.999999999999998e14, 1e16]),
    when=UTC_TIMES,
    email=ANY_TEXT,
)
def test_a_statistic_fingerprint_is_the_bytes_json_writes(progress, when, email):
    record = StatRecord(
        external_course_id="1", email=email, email_key=email.lower(), is_anonymized=False,
        first_activity=when, last_activity=when, completed_at=None, progress=progress,
        time_spent_ms=0,
    )  # fmt: skip
    assert record.fingerprint == _json_fingerprint(record)
