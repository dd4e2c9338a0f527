"""Items received again unchanged are not mapped (raw fingerprint), with the same outcome."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Course
from integrations.providers.udemy import mapping, provider
from integrations.services.content_sync import raw_fingerprint

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapped(monkeypatch) -> list[str]:
    """The ids of the course and path items mapped, in order."""
    calls: list[str] = []
    for name in ("map_course", "map_learning_path"):
        real = getattr(mapping, name)

        def counting(raw, *args, _real=real, **kwargs):
            calls.append(str(raw.get("id")))
            return _real(raw, *args, **kwargs)

        monkeypatch.setattr(provider, name, counting)
    return calls


def _catalog() -> dict[str, tuple]:
    fields = ("title", "description", "image", "lang", "status", "fingerprint")
    return {c.external_id: tuple(getattr(c, f) for f in fields) for c in Course.objects.all()}


def test_a_no_change_resync_maps_nothing_and_writes_nothing(
    make_udemy_sandbox, make_integration, run_sync, mapped
):
    sandbox = make_udemy_sandbox(courses=250, paths=10, learners=1)
    integration = make_integration(sandbox, sync_learning_paths=True, sync_tags=True)
    run_sync(integration)
    assert len(mapped) == 260
    assert all(c.raw_fingerprint for c in Course.objects.all())
    mapped.clear()
    with CaptureQueriesContext(connection) as queries:
        run = run_sync(integration)
    assert mapped == []
    assert (run.fetched, run.unchanged, run.created, run.updated, run.archived) == (
        260,
        260,
        0,
        0,
        0,
    )
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "catalog_course" in q["sql"]
    ]
    assert writes == []
    assert run.archival_decision == "applied"  # the skipped items count as seen: none archived


def test_only_changed_items_are_mapped_and_updated(
    make_udemy_sandbox, make_integration, run_sync, mapped
):
    sandbox = make_udemy_sandbox(courses=150, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    ids = [c["id"] for c in sandbox.data.courses]
    sandbox.data.update_courses(ids[:3])
    added = [c["id"] for c in sandbox.data.add_courses(2)]
    mapped.clear()
    run = run_sync(integration)
    assert sorted(mapped) == sorted(str(i) for i in [*ids[:3], *added])
    assert (run.updated, run.created, run.unchanged) == (3, 2, 147)


def test_the_outcome_is_the_same_as_mapping_every_item(
    make_udemy_sandbox, make_integration, run_sync, monkeypatch
):
    sandbox = make_udemy_sandbox(courses=120, paths=0, learners=1)
    skipping = make_integration(sandbox, sync_tags=True)
    run_sync(skipping)
    ids = [c["id"] for c in sandbox.data.courses]
    sandbox.data.update_courses(ids[5:9])
    run_sync(skipping)
    with_skip = _catalog()
    Course.objects.all().delete()
    real = provider.content_streams

    def without_item_ids(*args, **kwargs):
        return [s.__class__(**{**s.__dict__, "item_id": None}) for s in real(*args, **kwargs)]

    monkeypatch.setattr(provider, "content_streams", without_item_ids)
    run_sync(make_integration(sandbox, sync_tags=True))
    assert _catalog() == with_skip


def test_a_mapping_option_change_maps_every_item_again(
    make_udemy_sandbox, make_integration, run_sync, mapped
):
    sandbox = make_udemy_sandbox(courses=120, paths=0, learners=1)
    integration = make_integration(sandbox, sync_tags=False)
    run_sync(integration)
    assert not Course.objects.filter(tags__isnull=False).exists()
    integration.sync_tags = True
    integration.save()
    mapped.clear()
    run_sync(integration)
    assert len(mapped) == 120  # the same raw items, another revision: all mapped again
    assert Course.objects.filter(tags__isnull=False).distinct().count() == 120


def test_an_archived_item_listed_again_unchanged_is_restored(
    make_udemy_sandbox, make_integration, run_sync, mapped
):
    sandbox = make_udemy_sandbox(courses=120, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    course = Course.objects.order_by("id").first()
    Course.objects.filter(pk=course.pk).update(status=Course.Status.ARCHIVED)
    mapped.clear()
    run = run_sync(integration)
    assert mapped == [course.external_id]
    assert run.restored == 1
    assert Course.objects.get(pk=course.pk).status == Course.Status.ACTIVE


def test_a_field_the_mapping_ignores_is_recorded_once_then_skipped(
    make_udemy_sandbox, make_integration, run_sync, mapped
):
    sandbox = make_udemy_sandbox(courses=110, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.courses[0]["an_unused_field"] = "new"
    mapped.clear()
    first = run_sync(integration)
    assert mapped == [str(sandbox.data.courses[0]["id"])]
    assert (first.updated, first.unchanged) == (0, 110)  # same record: nothing to update
    mapped.clear()
    run_sync(integration)
    assert mapped == []  # its raw fingerprint was stored


def test_the_last_of_two_duplicates_in_a_page_is_kept(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=50, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    stored = Course.objects.get(external_id=str(sandbox.data.courses[0]["id"])).title
    changed = {**sandbox.data.courses[0], "title": "Changed first copy"}
    sandbox.data.courses.insert(0, changed)  # the changed copy first, the unchanged one later
    run_sync(integration)
    assert Course.objects.get(external_id=str(changed["id"])).title == stored


def test_the_raw_fingerprint_ignores_key_order_and_reads_the_revision():
    a = {"id": 1, "title": "T", "images": {"a": 1, "b": 2}}
    b = {"images": {"b": 2, "a": 1}, "title": "T", "id": 1}
    assert raw_fingerprint(a, "r1") == raw_fingerprint(b, "r1")
    assert raw_fingerprint(a, "r1") != raw_fingerprint(a, "r2")
    assert raw_fingerprint(a, "r1") != raw_fingerprint({**a, "title": "U"}, "r1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, "7"), ("007", "7"), (" 12 ", "12"), (True, None), (-1, None), ("x1", None), (1.0, None)],
)
def test_the_raw_id_is_the_one_the_mapping_gives(value, expected):
    assert mapping.raw_item_id({"id": value}) == expected
    if expected is not None:
        assert mapping._external_id(value, "id") == expected
