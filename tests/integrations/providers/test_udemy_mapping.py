"""Udemy mapping: one test (at least) per row of 360Learning's mapping tables.

"Seed" = 360Learning, "Synchronize Udemy content with 360Learning": tables "Udemy courses
synchronization", "Udemy learning paths synchronization" and "Statistics synchronization".
Pure functions: no database.
"""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from integrations.core.records import CourseRecord, MappingError, StatRecord
from integrations.providers.udemy import scale as ratio_scale
from integrations.providers.udemy.mapping import (
    PATH_TITLE_PREFIX,
    map_activity,
    map_activity_row,
    map_course,
    map_learning_path,
    normalize_lang,
    pick_image,
    pick_video,
)

# --------------------------------------------------------------------------- builders


def course(**fields: Any) -> dict[str, Any]:
    """A course item as `courses/list/?fields[courses]=@all` returns it (Udemy Business API
    guide)."""
    raw: dict[str, Any] = {
        "_class": "course",
        "id": 567828,
        "title": "The Complete Python Bootcamp",
        "headline": "Learn Python like a professional",
        "description": "<p>Learn <strong>Python</strong>.</p>",
        "url": "https://acme.udemy.com/course/complete-python-bootcamp/",
        "estimated_content_length": 1320,
        "categories": ["Development", "IT & Software"],
        "instructors": ["Jose Portilla"],
        "locale": {"_class": "locale", "locale": "en_US"},
        "images": {
            "size_48x27": "https://img-c.udemycdn.com/course/48x27/567828_67d0.jpg",
            "size_240x135": "https://img-c.udemycdn.com/course/240x135/567828_67d0.jpg",
            "size_750x422": "https://img-c.udemycdn.com/course/750x422/567828_67d0.jpg",
        },
        "promo_video_url": [
            {"type": "video/mp4", "label": "360", "file": "https://mp4-c.udemycdn.com/360.mp4"},
            {"type": "video/mp4", "label": "720", "file": "https://mp4-c.udemycdn.com/720.mp4"},
        ],
        "is_practice_test_course": False,
        "last_update_date": "2016-12-28",
        "num_lectures": 185,
    }
    raw.update(fields)
    return raw


def path(**fields: Any) -> dict[str, Any]:
    """A learning path item as `learning-paths/list/` returns it (Udemy Business API guide)."""
    raw: dict[str, Any] = {
        "id": 4242,
        "title": "Become a Data Engineer",
        "description": "<p>From SQL to Spark.</p>",
        "url": "https://acme.udemy.com/learning-paths/4242/",
        "created": "2023-01-10T09:00:00Z",
        "last_modified": "2024-03-05T10:20:30Z",
        "estimated_content_length": 2400,
        "categories": ["Data"],
        "editors": [{"display_name": "Ada L.", "email_address": "ada@example.com"}],
        "thumbnail": "https://img-c.udemycdn.com/path/4242.jpg",
        "sections": [],
    }
    raw.update(fields)
    return raw


def activity(**fields: Any) -> dict[str, Any]:
    """A row of `analytics/user-course-activity/` (Udemy Business API guide)."""
    raw: dict[str, Any] = {
        "user_id": 91,
        "user_email": "ada@example.com",
        "course_id": 567828,
        "course_title": "The Complete Python Bootcamp",
        "completion_ratio": 35,
        "num_video_consumed_minutes": 12,
        "course_enroll_date": "2024-01-01T08:00:00Z",
        "course_start_date": "2024-01-02T09:30:00Z",
        "course_completion_date": None,
        "course_last_accessed_date": "2024-02-03T10:00:00Z",
        "user_is_deactivated": False,
    }
    raw.update(fields)
    return raw


def without(raw: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != key}


def map_c(raw: Any, *, sync_tags: bool = True, default_lang: str = "de") -> CourseRecord:
    return map_course(raw, sync_tags=sync_tags, default_lang=default_lang)


def map_p(raw: Any, *, sync_tags: bool = True) -> CourseRecord:
    return map_learning_path(raw, sync_tags=sync_tags)


def mapping_error(call: Any, *args: Any, **kwargs: Any) -> MappingError:
    with pytest.raises(MappingError) as info:
        call(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------- courses: id


def test_course_full_item_maps_every_column() -> None:
    """360Learning table "Udemy courses": a realistic item fills every record field."""
    record = map_c(course())
    assert record == CourseRecord(
        kind="course",
        external_id="567828",
        title="The Complete Python Bootcamp",
        name="The Complete Python Bootcamp",
        description="<p>Learn <strong>Python</strong>.</p>",
        image="https://img-c.udemycdn.com/course/750x422/567828_67d0.jpg",
        duration_minutes=1320,
        authors=("Jose Portilla",),
        lang="en",
        tag_names=("Development", "IT & Software"),
        video_url="https://mp4-c.udemycdn.com/720.mp4",
        launch_url="https://acme.udemy.com/course/complete-python-bootcamp/",
        modified_at=datetime(2016, 12, 28, tzinfo=UTC),
    )


@pytest.mark.parametrize(("value", "expected"), [(567828, "567828"), ("567828", "567828")])
def test_course_id_becomes_external_id(value: Any, expected: str) -> None:
    """360Learning: id → externalId (int or numeric string, stored as a string)."""
    assert map_c(course(id=value)).external_id == expected


def test_course_id_numeric_string_is_canonical() -> None:
    """360Learning: id → externalId; " 0042 " and 42 are the same course, so the same external
    id."""
    assert map_c(course(id=" 0042 ")).external_id == map_c(course(id=42)).external_id == "42"


@pytest.mark.parametrize("value", [True, False, None, 1.5, "abc", "12a", "-3", -3, [1], {"a": 1}])
def test_course_bad_id_is_invalid_item(value: Any) -> None:
    """360Learning: id → externalId is required; bool, float, non-numeric → MappingError
    invalid_item."""
    error = mapping_error(map_c, course(id=value))
    assert error.category == "invalid_item"


def test_course_missing_id_is_invalid_item() -> None:
    """360Learning: id → externalId is required."""
    error = mapping_error(map_c, without(course(), "id"))
    assert (error.category, error.external_id) == ("invalid_item", "")
    assert "id" in error.message


@pytest.mark.parametrize("raw", [None, [], [course()], 42, "course", 1.5])
def test_course_not_an_object_is_invalid_item(raw: Any) -> None:
    """An item that is not a JSON object is one bad item, not a crash."""
    assert mapping_error(map_c, raw).category == "invalid_item"


def test_mapping_error_carries_the_item_id() -> None:
    """A bad item is reported with its external id so the admin can find it."""
    error = mapping_error(map_c, course(estimated_content_length=-5))
    assert error.external_id == "567828"
    assert "estimated_content_length" in error.message
    assert error.excerpt


# --------------------------------------------------------------------------- courses: title


def test_course_title_is_title_and_name_verbatim() -> None:
    """360Learning: title → title & name; the original title can't be modified (only stripped)."""
    record = map_c(course(title="  Python  for   DATA <Science>\n"))
    assert record.title == record.name == "Python  for   DATA <Science>"


@pytest.mark.parametrize("value", [None, "", "   ", 5, ["t"]])
def test_course_title_missing_or_wrong_is_invalid_item(value: Any) -> None:
    """360Learning: title → title & name; a course needs a non-empty string title."""
    assert mapping_error(map_c, course(title=value)).category == "invalid_item"


def test_course_title_longer_than_column_is_invalid_value() -> None:
    """360Learning: title → title verbatim: too long to store unmodified → reported, not
    truncated."""
    assert mapping_error(map_c, course(title="x" * 501)).category == "invalid_value"
    assert map_c(course(title="x" * 500)).title == "x" * 500


# --------------------------------------------------------------------------- courses: description


def test_course_description_is_sanitized_html() -> None:
    """360Learning: description → description (sanitized before it is stored)."""
    raw = course(description='<p onclick="x()">Hi <em>you</em><script>alert(1)</script></p>')
    assert map_c(raw).description == "<p>Hi <em>you</em></p>"


@pytest.mark.parametrize("value", [None, ""])
def test_course_description_missing_is_empty(value: Any) -> None:
    """360Learning: description → description; none upstream → ""."""
    assert map_c(course(description=value)).description == ""
    assert map_c(without(course(), "description")).description == ""


def test_course_description_wrong_type_is_invalid_item() -> None:
    """Payloads: a wrong type is an error, not a silent ""."""
    assert mapping_error(map_c, course(description=5)).category == "invalid_item"


# --------------------------------------------------------------------------- courses: image


def test_course_image_is_the_largest_size() -> None:
    """360Learning: image → image: the largest size available, by pixel area."""
    images = {
        "size_750x422": "https://i.test/750.jpg",
        "size_480x270": "https://i.test/480.jpg",
        "size_1280x720": "https://i.test/1280.jpg",
        "size_96x54": "https://i.test/96.jpg",
    }
    assert map_c(course(images=images)).image == "https://i.test/1280.jpg"


def test_course_image_height_only_sizes_assume_16_9() -> None:
    """360Learning: image → largest; "size_200_H" counts as 200 high x 356 wide (16:9)."""
    images = {"size_200_H": "https://i.test/200h.jpg", "size_304x171": "https://i.test/304.jpg"}
    assert pick_image(images) == "https://i.test/200h.jpg"  # 71 111 px² > 51 984 px²
    images["size_480x270"] = "https://i.test/480.jpg"
    assert pick_image(images) == "https://i.test/480.jpg"


def test_course_image_ignores_non_url_values() -> None:
    """360Learning: image → largest *usable* size: non-URL values are ignored."""
    images = {
        "size_750x422": "/relative/750.jpg",
        "size_480x270": None,
        "size_2000x2000": 5,
        "size_1000x1000": "javascript:alert(1)",
        "size_240x135": "https://i.test/240.jpg",
    }
    assert pick_image(images) == "https://i.test/240.jpg"


@pytest.mark.parametrize("images", [None, {}, {"size_48x27": ""}, "https://i.test/x.jpg", [1]])
def test_course_image_none_usable_is_empty(images: Any) -> None:
    """360Learning: image → image; nothing usable → ""."""
    assert pick_image(images) == ""


def test_course_image_choice_ignores_key_order() -> None:
    """360Learning: image → largest; equal sizes are broken by key, never by payload order."""
    one = {"a_100x100": "https://i.test/a.jpg", "b_100x100": "https://i.test/b.jpg"}
    assert pick_image(one) == pick_image(dict(reversed(one.items())))


def test_course_images_wrong_container_is_invalid_item() -> None:
    """Payloads: images must be an object of sizes."""
    assert mapping_error(map_c, course(images=["https://i.test/x.jpg"])).category == "invalid_item"


# --------------------------------------------------------------------------- courses: duration


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (90, 90), (90.4, 90), (90.5, 91), (89.5, 90), ("120", 120), ("7.6", 8), (None, None)],
)
def test_course_duration_in_whole_minutes(value: Any, expected: int | None) -> None:
    """360Learning: estimated_content_length → courseDuration in minutes (floats rounded half
    up)."""
    assert map_c(course(estimated_content_length=value)).duration_minutes == expected


def test_course_duration_missing_is_none() -> None:
    """360Learning: estimated_content_length → courseDuration; missing → unknown (None)."""
    assert map_c(without(course(), "estimated_content_length")).duration_minutes is None


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), "-3", 2**31, 10**40])
def test_course_duration_negative_or_absurd_is_invalid_value(value: Any) -> None:
    """360Learning: estimated_content_length → courseDuration: a negative duration is a bad
    value."""
    error = mapping_error(map_c, course(estimated_content_length=value))
    assert error.category == "invalid_value"


@pytest.mark.parametrize("value", [True, "ninety", [90], {"m": 90}])
def test_course_duration_wrong_type_is_invalid_item(value: Any) -> None:
    """360Learning: estimated_content_length is a number; True must not become 1 minute."""
    error = mapping_error(map_c, course(estimated_content_length=value))
    assert error.category == "invalid_item"


# --------------------------------------------------------------------------- courses: authors


def test_course_instructors_become_authors() -> None:
    """360Learning: instructors → authors, in order, stripped, duplicates and empties dropped."""
    raw = course(instructors=[" Jose Portilla ", "Pierian Training", "", "Jose Portilla"])
    assert map_c(raw).authors == ("Jose Portilla", "Pierian Training")


def test_course_instructor_objects_are_tolerated() -> None:
    """360Learning: instructors → authors; objects with display_name (or title) are tolerated."""
    raw = course(instructors=[{"display_name": "Ada"}, {"title": "Grace"}, {"url": "/x"}, "Linus"])
    assert map_c(raw).authors == ("Ada", "Grace", "Linus")


@pytest.mark.parametrize("value", [None, []])
def test_course_without_instructors_has_no_authors(value: Any) -> None:
    """360Learning: instructors → authors; missing or null is tolerated."""
    assert map_c(course(instructors=value)).authors == ()
    assert map_c(without(course(), "instructors")).authors == ()


@pytest.mark.parametrize("value", ["Jose Portilla", [1, 2], 5])
def test_course_instructors_wrong_type_is_invalid_item(value: Any) -> None:
    """Payloads: instructors is a list of names (or of person objects)."""
    assert mapping_error(map_c, course(instructors=value)).category == "invalid_item"


# --------------------------------------------------------------------------- courses: lang


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_US", "en"),
        ("en_GB", "en"),
        ("fr_FR", "fr"),
        ("ja_JP", "ja"),
        ("de_DE", "de"),
        ("es_ES", "es"),
        ("pt_BR", "pt-BR"),
        ("pt_PT", "pt"),
        ("zh_CN", "zh-CN"),
        ("zh_TW", "zh-TW"),
        ("pt-BR", "pt-BR"),
        ("EN_us", "en"),
        ("it", "it"),
        ("en_US.UTF-8", "en"),
    ],
)
def test_course_locale_becomes_lang(locale: str, expected: str) -> None:
    """360Learning: locale.locale → lang; regions kept only where the platform distinguishes
    them."""
    raw = course(locale={"_class": "locale", "locale": locale})
    assert map_c(raw, default_lang="de").lang == expected


@pytest.mark.parametrize("locale", [None, {}, {"locale": None}, {"locale": ""}, {"locale": "??"}])
def test_course_without_locale_takes_the_owner_language(locale: Any) -> None:
    """360Learning: locale.locale → lang; no language → the language of the connector's owner."""
    assert map_c(course(locale=locale), default_lang="fr").lang == "fr"
    assert map_c(without(course(), "locale"), default_lang="fr").lang == "fr"


def test_course_bare_locale_string_is_tolerated() -> None:
    """360Learning: locale.locale → lang; a bare "ja_JP" instead of the object is accepted."""
    assert map_c(course(locale="ja_JP")).lang == "ja"


@pytest.mark.parametrize(("default", "expected"), [("", "en"), ("fr_FR", "fr"), ("pt_BR", "pt-BR")])
def test_lang_default_is_normalized_and_never_empty(default: str, expected: str) -> None:
    """360Learning: locale.locale → lang: the owner's language is normalized too; never empty."""
    assert normalize_lang(None, default) == expected


def test_course_locale_wrong_type_is_invalid_item() -> None:
    """Payloads: locale is an object (or a string), not a number."""
    assert mapping_error(map_c, course(locale=5)).category == "invalid_item"


# --------------------------------------------------------------------------- courses: tags


def test_course_categories_become_tags_when_tags_sync_is_enabled() -> None:
    """360Learning: categories → tagNames only if "Enable tags synchronization" is selected."""
    raw = course(categories=[" Development ", "IT & Software", "", "Development", "  "])
    assert map_c(raw, sync_tags=True).tag_names == ("Development", "IT & Software")


def test_course_categories_ignored_when_tags_sync_is_disabled() -> None:
    """360Learning: categories → tagNames only if tags sync is enabled; otherwise no tags."""
    assert map_c(course(categories=["Development"]), sync_tags=False).tag_names == ()


@pytest.mark.parametrize("value", [None, []])
def test_course_without_categories_has_no_tags(value: Any) -> None:
    """360Learning: categories → tagNames; missing or empty → no tags."""
    assert map_c(course(categories=value), sync_tags=True).tag_names == ()


def test_course_categories_wrong_type_is_invalid_item() -> None:
    """Payloads: categories is a list, not a string."""
    assert mapping_error(map_c, course(categories="Development")).category == "invalid_item"


# --------------------------------------------------------------------------- courses: video


def test_course_video_is_the_highest_quality() -> None:
    """360Learning: promo_video_url → videoUrl, the highest quality available (largest label)."""
    promo = [
        {"type": "video/mp4", "label": "360", "file": "https://v.test/360.mp4"},
        {"type": "video/mp4", "label": "1080", "file": "https://v.test/1080.mp4"},
        {"type": "video/mp4", "label": "720", "file": "https://v.test/720.mp4"},
    ]
    assert map_c(course(promo_video_url=promo)).video_url == "https://v.test/1080.mp4"


def test_course_video_labels_compare_as_numbers() -> None:
    """360Learning: promo_video_url → highest quality: "1080" beats "720" numerically, not as
    text."""
    promo = [
        {"label": "720", "file": "https://v.test/720"},
        {"label": "1080", "file": "https://v.test/1080"},
    ]
    assert pick_video(promo) == "https://v.test/1080"
    promo = [
        {"label": 480, "file": "https://v.test/480"},
        {"label": "144", "file": "https://v.test/144"},
    ]
    assert pick_video(promo) == "https://v.test/480"


def test_course_video_non_numeric_labels_rank_lowest() -> None:
    """360Learning: promo_video_url → highest quality: "Auto" (adaptive) ranks below any height."""
    auto = {"type": "application/x-mpegURL", "label": "Auto", "file": "https://v.test/auto.m3u8"}
    assert (
        pick_video([auto, {"label": "144", "file": "https://v.test/144"}]) == "https://v.test/144"
    )
    assert pick_video([auto]) == "https://v.test/auto.m3u8"


def test_course_video_entries_without_usable_file_are_skipped() -> None:
    """360Learning: promo_video_url → highest quality *available*: no file, no candidate."""
    promo = [
        {"label": "1080"},
        {"label": "900", "file": None},
        {"label": "800", "file": "not a url"},
        {"label": "480", "file": "https://v.test/480"},
    ]
    assert pick_video(promo) == "https://v.test/480"


@pytest.mark.parametrize("promo", [None, [], "", 5, {"file": "https://v.test/x"}, [{"label": "1"}]])
def test_course_video_none_usable_is_empty(promo: Any) -> None:
    """360Learning: promo_video_url → videoUrl; nothing usable → ""."""
    assert pick_video(promo) == ""


def test_course_video_missing_is_empty() -> None:
    """360Learning: promo_video_url → videoUrl; a course without promo video has none."""
    assert map_c(without(course(), "promo_video_url")).video_url == ""


# --------------------------------------------------------------------------- courses: url, dates


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.udemy.com/course/x/", "https://acme.udemy.com/course/x/"),
        ("http://acme.udemy.com/course/x/", "http://acme.udemy.com/course/x/"),
        ("/course/x/", ""),
        ("javascript:alert(1)", ""),
        ("https://", ""),
        ("https://acme.udemy.com/a b", ""),
        (None, ""),
        ("https://acme.udemy.com/" + "x" * 1000, ""),
    ],
)
def test_course_url_becomes_launch_url_when_absolute(url: Any, expected: str) -> None:
    """START sends learners to Udemy: url → launch URL, absolute http(s) only."""
    assert map_c(course(url=url)).launch_url == expected


def test_course_last_update_date_is_midnight_utc() -> None:
    """Course modifiedAt: last_update_date (date only) → midnight UTC, aware."""
    modified = map_c(course(last_update_date="2016-12-28")).modified_at
    assert modified == datetime(2016, 12, 28, tzinfo=UTC)
    assert modified.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [None, ""])
def test_course_without_last_update_date_has_no_modified_at(value: Any) -> None:
    """Course modifiedAt: last_update_date missing → None."""
    assert map_c(course(last_update_date=value)).modified_at is None


@pytest.mark.parametrize("value", ["28/12/2016", "2016-13-01", "yesterday", 20161228])
def test_course_bad_last_update_date_is_invalid_date(value: Any) -> None:
    """Dates: unparsable → MappingError invalid_date."""
    assert mapping_error(map_c, course(last_update_date=value)).category == "invalid_date"


def test_course_unknown_fields_are_ignored() -> None:
    """Payloads: Udemy adds fields; extra fields never break the mapping."""
    record = map_c(course(brand_new_field={"nested": [1, 2]}, topics=None))
    assert record == map_c(course())


# --------------------------------------------------------------------------- learning paths


def test_path_title_has_the_learning_path_prefix() -> None:
    """360Learning: learning paths are courses with the [Learning Path] prefix; title & name."""
    record = map_p(path(title="  Become a Data Engineer "))
    assert record.title == record.name == "[Learning Path] Become a Data Engineer"
    assert PATH_TITLE_PREFIX == "[Learning Path] "


@pytest.mark.parametrize("value", [None, "", "  ", 7])
def test_path_without_title_is_invalid_item(value: Any) -> None:
    """360Learning: learning path title → title is required."""
    assert mapping_error(map_p, path(title=value)).category == "invalid_item"


def test_path_id_becomes_external_id_of_kind_learning_path() -> None:
    """360Learning: learning path id → externalId; kind keeps it apart from a course with the same
    id."""
    record = map_p(path(id=567828))
    assert (record.kind, record.external_id) == ("learning_path", "567828")
    assert map_c(course(id=567828)).external_id == record.external_id


def test_path_without_id_is_invalid_item() -> None:
    """360Learning: learning path id → externalId is required."""
    assert mapping_error(map_p, without(path(), "id")).category == "invalid_item"


def test_path_description_lists_the_content_as_links() -> None:
    """360Learning: the content of learning paths is added to the course description as links."""
    sections = [
        {
            "title": "Advanced",
            "order": 2,
            "items": [
                {"type": "course", "title": "Spark", "url": "https://u.test/spark", "order": 1}
            ],
        },
        {
            "title": "Basics",
            "order": 1,
            "items": [
                {"type": "course", "title": "SQL", "url": "https://u.test/sql", "order": 2},
                {"type": "lecture", "title": "Intro", "url": "https://u.test/intro", "order": 1},
            ],
        },
    ]
    description = map_p(path(description="<p>Own text.</p>", sections=sections)).description
    rel = 'rel="noopener noreferrer nofollow"'
    assert description == (
        "<p>Own text.</p>"
        "<h3>Basics</h3><ul>"
        f'<li><a href="https://u.test/intro" {rel}>Intro</a></li>'
        f'<li><a href="https://u.test/sql" {rel}>SQL</a></li>'
        "</ul>"
        "<h3>Advanced</h3><ul>"
        f'<li><a href="https://u.test/spark" {rel}>Spark</a></li>'
        "</ul>"
    )


def test_path_description_escapes_titles_and_links_only_http_urls() -> None:
    """360Learning: content added as links: titles escaped; only http(s) URLs become links."""
    sections = [
        {
            "title": "<b>Bold</b> & co",
            "items": [
                {"title": "<script>alert(1)</script>", "url": "javascript:alert(1)"},
                {"title": "Relative", "url": "/course/x/"},
                {"title": 'Q"uote', "url": 'https://u.test/a?x=1&y="2"'},
                {"title": "", "url": "https://u.test/untitled"},
                {"title": None, "url": None},
            ],
        }
    ]
    description = map_p(path(description=None, sections=sections)).description
    assert "<script" not in description
    assert "javascript:" not in description
    assert "<h3>&lt;b&gt;Bold&lt;/b&gt; &amp; co</h3>" in description
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in description
    assert "<li>Relative</li>" in description
    assert 'href="https://u.test/a?x=1&amp;y=&quot;2&quot;"' in description
    assert '>Q"uote</a>' in description
    assert ">https://u.test/untitled</a>" in description
    assert description.count("<li>") == 4


def test_path_description_orders_missing_order_last_and_keeps_upstream_ties() -> None:
    """360Learning: content as links, ordered by `order`; no order → after the ordered ones."""
    items = [
        {"title": "C", "url": "https://u.test/c"},
        {"title": "B", "url": "https://u.test/b", "order": 2},
        {"title": "A", "url": "https://u.test/a", "order": 1},
        {"title": "D", "url": "https://u.test/d"},
    ]
    description = map_p(path(sections=[{"title": "S", "items": items}])).description
    positions = [description.index(f">{t}</a>") for t in "ABCD"]
    assert positions == sorted(positions)


@pytest.mark.parametrize("sections", [None, []])
def test_path_description_without_sections_is_its_own(sections: Any) -> None:
    """360Learning: learning path description → description (sanitized)."""
    raw = path(description='<p style="x">Own</p><img src=x onerror=alert(1)>', sections=sections)
    assert map_p(raw).description == "<p>Own</p>"


def test_path_sections_wrong_type_is_invalid_item() -> None:
    """Payloads: sections is a list of objects."""
    assert mapping_error(map_p, path(sections=["Basics"])).category == "invalid_item"


@pytest.mark.parametrize(
    ("thumbnail", "expected"),
    [
        ("https://i.test/p.jpg", "https://i.test/p.jpg"),
        (
            {"size_100x100": "https://i.test/s.jpg", "size_480x270": "https://i.test/l.jpg"},
            "https://i.test/l.jpg",
        ),
        ("/relative.jpg", ""),
        (None, ""),
    ],
)
def test_path_thumbnail_becomes_image(thumbnail: Any, expected: str) -> None:
    """360Learning: thumbnail → URL of the image (a URL, or a dict of sizes → the largest)."""
    assert map_p(path(thumbnail=thumbnail)).image == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T10:20:30Z", datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)),
        ("2024-03-05T12:20:30+02:00", datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)),
        ("2024-03-05T10:20:30.123456", datetime(2024, 3, 5, 10, 20, 30, 123456, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        (None, None),
    ],
)
def test_path_last_modified_becomes_modified_at(value: Any, expected: datetime | None) -> None:
    """360Learning: last_modified → modifiedAt (last date/time the content was updated), aware
    UTC."""
    modified = map_p(path(last_modified=value)).modified_at
    assert modified == expected
    if modified is not None:
        assert modified.tzinfo is UTC


def test_path_bad_last_modified_is_invalid_date() -> None:
    """360Learning: last_modified → modifiedAt; unparsable → invalid_date."""
    assert mapping_error(map_p, path(last_modified="soon")).category == "invalid_date"


def test_path_lang_is_always_en() -> None:
    """360Learning: learning path lang is "en" per default, because no language is returned."""
    assert map_p(path(locale={"locale": "fr_FR"}, locales=["fr_FR"])).lang == "en"


def test_path_editors_display_names_become_authors() -> None:
    """360Learning: editors.display_name → authors."""
    editors = [
        {"display_name": "Ada L.", "email": "ada@example.com"},
        {"display_name": "Grace H.", "email_address": "grace@example.com", "lms_user_id": None},
        {"email": "nobody@example.com"},
    ]
    assert map_p(path(editors=editors)).authors == ("Ada L.", "Grace H.")
    assert map_p(path(editors=None)).authors == ()


def test_path_duration_in_minutes() -> None:
    """360Learning: estimated_content_length → duration (course duration in minutes)."""
    assert map_p(path(estimated_content_length=2400)).duration_minutes == 2400
    assert map_p(path(estimated_content_length=None)).duration_minutes is None
    assert mapping_error(map_p, path(estimated_content_length=-1)).category == "invalid_value"


def test_path_categories_become_tags_only_with_tags_sync() -> None:
    """360Learning: categories → tagNames only if tags synchronization is enabled."""
    assert map_p(path(categories=["Data", "Data "]), sync_tags=True).tag_names == ("Data",)
    assert map_p(path(categories=["Data"]), sync_tags=False).tag_names == ()


def test_path_url_launch_and_no_video() -> None:
    """Learning paths are played on Udemy: url → launch URL; they have no promo video."""
    record = map_p(path(promo_video_url=[{"label": "720", "file": "https://v.test/720"}]))
    assert record.launch_url == "https://acme.udemy.com/learning-paths/4242/"
    assert record.video_url == ""


# --------------------------------------------------------------------------- statistics


def test_activity_full_row_maps_every_column() -> None:
    """360Learning table "Statistics": a realistic row fills every record field."""
    assert map_activity(activity()) == StatRecord(
        external_course_id="567828",
        email="ada@example.com",
        email_key="ada@example.com",
        is_anonymized=False,
        first_activity=datetime(2024, 1, 2, 9, 30, tzinfo=UTC),
        last_activity=datetime(2024, 2, 3, 10, 0, tzinfo=UTC),
        completed_at=None,
        progress=35.0,
        time_spent_ms=720_000,
    )


@pytest.mark.parametrize(("value", "expected"), [(567828, "567828"), ("567828", "567828")])
def test_activity_course_id_becomes_external_course_id(value: Any, expected: str) -> None:
    """360Learning: course_id → externalCourseId."""
    assert map_activity(activity(course_id=value)).external_course_id == expected


@pytest.mark.parametrize("value", [None, True, "x1", 1.0])
def test_activity_bad_course_id_is_invalid_item(value: Any) -> None:
    """360Learning: course_id → externalCourseId is required."""
    assert mapping_error(map_activity, activity(course_id=value)).category == "invalid_item"
    assert mapping_error(map_activity, without(activity(), "course_id")).category == "invalid_item"


def test_activity_email_is_kept_and_keyed_case_insensitively() -> None:
    """360Learning: user_email → learnerMail; the same address on both sides, matched ignoring
    case."""
    record = map_activity(activity(user_email="  Ada.Lovelace@Example.COM "))
    assert record.email == "Ada.Lovelace@Example.COM"
    assert record.email_key == "ada.lovelace@example.com"
    assert record.is_anonymized is False


@pytest.mark.parametrize("value", ["Anonymized User", "anonymized user", " ANONYMIZED USER ", ""])
def test_activity_anonymized_rows_are_flagged(value: str) -> None:
    """360Learning: user_email → learnerMail; "Anonymized User" rows match no learner (Udemy
    Business API guide)."""
    assert map_activity(activity(user_email=value)).is_anonymized is True


@pytest.mark.parametrize("value", [None, 5, ["a@b.c"]])
def test_activity_missing_or_wrong_email_is_invalid_item(value: Any) -> None:
    """360Learning: user_email → learnerMail is required to match a learner."""
    assert mapping_error(map_activity, activity(user_email=value)).category == "invalid_item"
    assert mapping_error(map_activity, without(activity(), "user_email")).category == "invalid_item"


def test_activity_overlong_email_is_invalid_value() -> None:
    """360Learning: user_email → learnerMail; longer than an e-mail address can be → bad value."""
    error = mapping_error(map_activity, activity(user_email="a" * 250 + "@b.cd"))
    assert error.category == "invalid_value"


def test_activity_first_activity_is_the_start_date() -> None:
    """360Learning: course_start_date or course_enroll_date → firstActivity (start when defined)."""
    raw = activity(course_start_date="2024-01-05T00:00:00Z", course_enroll_date="2024-01-01")
    assert map_activity(raw).first_activity == datetime(2024, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize("start", [None, "", "  "])
def test_activity_first_activity_falls_back_to_enroll_date(start: Any) -> None:
    """360Learning: if course_start_date is not defined, course_enroll_date → firstActivity."""
    raw = activity(course_start_date=start, course_enroll_date="2024-01-01T08:00:00Z")
    assert map_activity(raw).first_activity == datetime(2024, 1, 1, 8, tzinfo=UTC)
    raw = without(activity(course_enroll_date="2024-01-01"), "course_start_date")
    assert map_activity(raw).first_activity == datetime(2024, 1, 1, tzinfo=UTC)


def test_activity_without_start_or_enroll_has_no_first_activity() -> None:
    """360Learning: firstActivity from start or enroll date; neither → None."""
    raw = activity(course_start_date=None, course_enroll_date=None)
    assert map_activity(raw).first_activity is None


def test_activity_last_accessed_becomes_last_activity() -> None:
    """360Learning: course_last_accessed_date → lastActivity."""
    raw = activity(course_last_accessed_date="2024-02-03T11:00:00+01:00")
    assert map_activity(raw).last_activity == datetime(2024, 2, 3, 10, tzinfo=UTC)
    assert map_activity(activity(course_last_accessed_date=None)).last_activity is None


def test_activity_completion_date_becomes_completed_at() -> None:
    """360Learning: course_completion_date → completedAt."""
    raw = activity(course_completion_date="2024-03-01T12:00:00Z")
    assert map_activity(raw).completed_at == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert map_activity(activity(course_completion_date=None)).completed_at is None


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        (None, "0-100", 0.0),
        (0, "0-100", 0.0),
        (1, "0-100", 1.0),
        (1.0, "0-1", 100.0),
        (0.35, "0-1", 35.0),
        (0.35, "0-100", 0.35),
        (0.29, "0-1", 29.0),
        (0.999, "0-1", 99.9),
        (35, "0-100", 35.0),
        (35.5, "0-100", 35.5),
        (100, "0-100", 100.0),
        (100.0, "0-100", 100.0),
        ("0.5", "0-1", 50.0),
        ("0.5", "0-100", 0.5),
        ("42", "0-100", 42.0),
        ("42.50", "0-100", 42.5),
    ],
)
def test_activity_completion_ratio_becomes_progress_on_the_reports_scale(
    value: Any, scale: str, expected: float
) -> None:
    """360Learning: completion_ratio → progress "from 0 to 100%". The scale of the value is the
    report's (decided once from all its values, `scale.py`), never guessed from the value."""
    assert map_activity(activity(completion_ratio=value), scale=scale).progress == expected


@pytest.mark.parametrize("value", [100.01, 101, "150", 10**9])
def test_activity_completion_ratio_above_100_is_applied_as_100_and_reported(value: Any) -> None:
    """360Learning: progress runs "from 0 to 100%": a value above is clamped to 100 % and the
    row is reported (an invalid_value problem the sync records as a SyncError), not dropped."""
    row = map_activity_row(activity(completion_ratio=value))
    record, problem = ratio_scale.apply(row, ratio_scale.PERCENT)
    assert record.progress == 100.0
    assert problem is not None and problem.category == "invalid_value"
    assert "completion_ratio" in problem.message


@pytest.mark.parametrize("value", [-0.1, -1, float("nan"), float("inf")])
def test_activity_completion_ratio_negative_or_not_finite_is_invalid_value(value: Any) -> None:
    """360Learning: completion_ratio → progress: a negative or infinite value is not a ratio."""
    error = mapping_error(map_activity, activity(completion_ratio=value))
    assert error.category == "invalid_value"


@pytest.mark.parametrize("value", [True, "half", [0.5]])
def test_activity_completion_ratio_wrong_type_is_invalid_item(value: Any) -> None:
    """360Learning: completion_ratio → progress is a number."""
    error = mapping_error(map_activity, activity(completion_ratio=value))
    assert error.category == "invalid_item"


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(None, 0), (0, 0), (2, 120_000), (2.5, 150_000), ("3", 180_000), (0.0001, 6), (1 / 3, 20_000)],
)
def test_activity_minutes_become_time_spent_ms(minutes: Any, expected: int) -> None:
    """360Learning: num_video_consumed_minutes x 60 x 1000 → timeSpentInMilliseconds."""
    assert map_activity(activity(num_video_consumed_minutes=minutes)).time_spent_ms == expected


@pytest.mark.parametrize("minutes", [-1, -0.01, float("nan"), 10**20])
def test_activity_negative_minutes_is_invalid_value(minutes: Any) -> None:
    """360Learning: num_video_consumed_minutes → time spent: negative (or absurd) →
    invalid_value."""
    error = mapping_error(map_activity, activity(num_video_consumed_minutes=minutes))
    assert error.category == "invalid_value"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05.5Z", datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
        ("2024-01-02T05:04:05+02:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-01T22:04:05-05:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02 03:04:05", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02", datetime(2024, 1, 2, tzinfo=UTC)),
    ],
)
def test_activity_dates_are_aware_utc(value: str, expected: datetime) -> None:
    """Dates: ISO 8601 with Z or offset, naive (UTC assumed) or date only → aware UTC."""
    parsed = map_activity(activity(course_completion_date=value)).completed_at
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value", ["2024-02-30", "02/01/2024", "2024-01-02T25:00:00Z", "now", 1704153600]
)
def test_activity_unparsable_date_is_invalid_date(value: Any) -> None:
    """Dates: unparsable → MappingError invalid_date, with the course id."""
    error = mapping_error(map_activity, activity(course_last_accessed_date=value))
    assert (error.category, error.external_id) == ("invalid_date", "567828")


def test_activity_date_overflowing_utc_is_invalid_date() -> None:
    """Dates: a value that cannot be expressed in UTC is a bad date, not a crash."""
    raw = activity(course_last_accessed_date="0001-01-01T00:00:00+05:00")
    assert mapping_error(map_activity, raw).category == "invalid_date"


# --------------------------------------------------------------------------- records


def _course_record() -> CourseRecord:
    return CourseRecord(
        kind="course",
        external_id="42",
        title="T",
        name="T",
        description="<p>d</p>",
        image="https://i/x.jpg",
        duration_minutes=90,
        authors=("A", "B"),
        lang="fr",
        tag_names=("Dev",),
        video_url="https://v/1",
        launch_url="https://l/1",
        modified_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def _stat_record() -> StatRecord:
    return StatRecord(
        external_course_id="42",
        email="Bob@X.com",
        email_key="bob@x.com",
        is_anonymized=False,
        first_activity=datetime(2024, 1, 1, tzinfo=UTC),
        last_activity=None,
        completed_at=None,
        progress=35.0,
        time_spent_ms=150000,
    )


def test_fingerprints_are_stable_across_runs() -> None:
    """Unchanged upstream writes nothing: a fingerprint is the same in every process, forever.

    Changing these constants means every stored row is rewritten once: do it on purpose only.
    """
    assert _course_record().fingerprint == (
        "a3be9ac785504998e7e07fb1b24310590e95eb45c9bf37e782fbfe314aa5acd5"
    )
    assert _stat_record().fingerprint == (
        "c0418a7bf88687d816dee926107aa860e2f0f8652e24aaf41e4328789d9cd865"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "learning_path"},
        {"external_id": "43"},
        {"title": "U"},
        {"name": "U"},
        {"description": "<p>e</p>"},
        {"image": ""},
        {"duration_minutes": None},
        {"duration_minutes": 91},
        {"authors": ("B", "A")},
        {"lang": "en"},
        {"tag_names": ()},
        {"video_url": ""},
        {"launch_url": ""},
        {"modified_at": None},
        {"modified_at": datetime(2024, 1, 2, 3, 4, 6, tzinfo=UTC)},
    ],
)
def test_course_fingerprint_changes_with_every_field(change: dict[str, Any]) -> None:
    """Fingerprint = every field: any upstream change is written on the next sync."""
    record = _course_record()
    assert dataclasses.replace(record, **change).fingerprint != record.fingerprint


@pytest.mark.parametrize(
    "change",
    [
        {"external_course_id": "43"},
        {"email": "bob@x.com"},
        {"email_key": "bob@y.com"},
        {"is_anonymized": True},
        {"first_activity": None},
        {"last_activity": datetime(2024, 1, 1, tzinfo=UTC)},
        {"completed_at": datetime(2024, 1, 1, tzinfo=UTC)},
        {"progress": 35.5},
        {"time_spent_ms": 150001},
    ],
)
def test_stat_fingerprint_changes_with_every_field(change: dict[str, Any]) -> None:
    """Fingerprint = every field: a new progress or date is applied on the next sync."""
    record = _stat_record()
    assert dataclasses.replace(record, **change).fingerprint != record.fingerprint


def test_fingerprint_is_the_same_for_equal_instants_in_utc() -> None:
    """Datetimes are normalized to UTC by the mapping, so equal rows fingerprint equally."""
    one = map_activity(activity(course_start_date="2024-01-02T10:00:00+01:00"))
    two = map_activity(activity(course_start_date="2024-01-02T09:00:00Z"))
    assert one.fingerprint == two.fingerprint


def test_stat_record_survives_a_json_round_trip() -> None:
    """Pending statistics are stored as JSON (asdict + isoformat) and rebuilt identically."""
    record = map_activity(activity(course_completion_date="2024-03-01T12:00:00Z"))
    data = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in dataclasses.asdict(record).items()
    }
    rebuilt = StatRecord(
        **{
            k: (datetime.fromisoformat(v) if k.endswith(("_activity", "_at")) and v else v)
            for k, v in data.items()
        }
    )
    assert rebuilt == record
    assert rebuilt.fingerprint == record.fingerprint


def test_records_are_frozen() -> None:
    """Records are values: nothing downstream can alter one by accident."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        _course_record().title = "x"  # type: ignore[misc]


def test_mapping_error_fields() -> None:
    """MappingError carries what a SyncError row needs."""
    error = MappingError("42", "invalid_value", "negative minutes", "num_video_consumed_minutes=-1")
    assert (error.external_id, error.category, error.message) == (
        "42",
        "invalid_value",
        "negative minutes",
    )
    assert error.excerpt == "num_video_consumed_minutes=-1"
    assert "negative minutes" in str(error)
    copy = pickle.loads(pickle.dumps(error))  # crosses process boundaries intact
    assert (copy.external_id, copy.category, copy.message, copy.excerpt) == (
        error.external_id,
        error.category,
        error.message,
        error.excerpt,
    )


def test_a_fixed_offset_timezone_is_converted() -> None:
    """Dates: aware datetimes are converted to UTC, never just relabelled."""
    raw = activity(course_start_date="2024-06-30T23:30:00-02:30")
    expected = datetime(2024, 6, 30, 23, 30, tzinfo=timezone(timedelta(hours=-2, minutes=-30)))
    assert map_activity(raw).first_activity == expected
    assert map_activity(raw).first_activity.tzinfo is UTC


def test_a_relative_course_url_is_joined_to_the_udemy_site():
    """360Learning: START sends the learner to the course on Udemy; the API may give
    "/course/x/"."""
    from integrations.providers.udemy.mapping import map_course, map_learning_path

    raw = {"id": 7, "title": "Relative", "url": "/course/relative/"}
    record = map_course(raw, sync_tags=False, default_lang="en", site_url="https://acme.udemy.com")
    assert record.launch_url == "https://acme.udemy.com/course/relative/"
    assert map_course(raw, sync_tags=False, default_lang="en").launch_url == ""
    path = map_learning_path(
        {"id": 8, "title": "P", "url": "/learning-paths/8/"},
        sync_tags=False,
        site_url="https://acme.udemy.com",
    )
    assert path.launch_url == "https://acme.udemy.com/learning-paths/8/"
