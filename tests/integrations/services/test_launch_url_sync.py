"""A content sync records a course whose URL leads off the organization's Udemy site as a bad
item and goes on with the rest of the page (tests/security/test_launch_url_host.py: the check)."""

from __future__ import annotations

import pytest

from catalog.models import Course
from integrations.models import SyncError

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "https://evil.example/phish",
    "http://127.0.0.1:8200@evil.example/",
    "https://demo.udemy.com.evil.example/",
]


def test_a_course_off_the_site_is_a_bad_item_and_the_others_are_stored(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=12, paths=0, learners=1)
    bad = sandbox.data.courses[3:6]
    for course, url in zip(bad, OFF_SITE, strict=True):
        course["url"] = url
    run = run_sync(make_integration(sandbox))
    bad_ids = {str(course["id"]) for course in bad}
    errors = SyncError.objects.filter(run=run)
    assert set(errors.values_list("external_id", flat=True)) == bad_ids
    assert all("Udemy site" in error.message for error in errors)
    assert Course.objects.count() == 9
    assert not Course.objects.filter(external_id__in=bad_ids).exists()
