"""Stored messages on console pages in an admin's words: a setting reads as what it limits, an
HTTP status goes; the message as stored stays behind "Details for your IT team"."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from catalog.templatetags.admin_words import in_words, words_only
from tests.factories import IntegrationFactory, SyncRunFactory, group_admin

STORED = (
    "Udemy could not be reached (503): waiting 2 h would take the run past RUN_MAX_WAIT "
    "(6 h after it was requested). The run stops here; the next run starts again."
)


def test_a_setting_reads_as_what_it_limits_and_the_status_goes():
    words = words_only(STORED)
    assert "RUN_MAX_WAIT" not in words and "503" not in words
    assert "past the longest a run may wait (6 h after it was requested)" in words
    html = str(in_words(STORED))
    assert "Details for your IT team" in html and "RUN_MAX_WAIT" in html.split("<details")[1]


def test_plain_words_and_an_upstream_code_are_left_as_they_are():
    assert in_words("The credentials were refused.") == "The credentials were refused."
    assert words_only("Coursebase refused the request (INVALID_TOKEN).") == (
        "Coursebase refused the request (INVALID_TOKEN)."
    )
    assert in_words(None) == ""


def test_the_disclosure_is_named_in_french():
    with translation.override("fr"):
        html = str(in_words(STORED))
    assert "Détails pour votre équipe informatique" in html


@pytest.mark.django_db
def test_the_run_page_shows_no_setting_name_outside_the_disclosure(client, group):
    client.force_login(group_admin(group))
    run = SyncRunFactory(
        integration=IntegrationFactory(group=group), status="failed", error_summary=STORED
    )
    page = unescape(
        client.get(reverse("integrations:run", args=[group.slug, run.pk])).content.decode()
    )
    outside = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    assert "RUN_MAX_WAIT" not in outside and "(503)" not in outside
    assert "the longest a run may wait" in outside
    assert "Details for your IT team" in page


def test_course_languages_read_as_names_in_the_readers_language():
    from catalog.templatetags.admin_words import language_name

    assert language_name("de") == "German"
    assert language_name("pt-BR") == "Brazilian Portuguese"
    with translation.override("fr"):
        assert language_name("de") == "Allemand"
    assert language_name("xx-unknown") == "xx-unknown"


def test_an_answer_code_reads_as_what_it_means():
    assert words_only("Udemy answered 503 (Service Unavailable).") == (
        "Udemy failed on its side (Service Unavailable)."
    )
    assert words_only("Udemy answered 401.") == "Udemy refused the credentials."
    assert words_only("LearnUpon answered 422 (name too long).") == (
        "LearnUpon refused the request (name too long)."
    )
    assert "Details for your IT team" in str(in_words("Udemy answered 429."))


def test_ordinary_text_and_other_names_are_left_as_they_are():
    for text in (
        "Udemy answered 200 with a body that is not JSON.",
        "Imported (250) courses.",
        "Course TIME_ZONE_101 refused.",
        "Django's TIME_ZONE is named as it is.",
    ):
        assert words_only(text) == text
