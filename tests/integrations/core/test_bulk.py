"""`integrations.core.bulk_writes`, `bulk_reads` and `transactions`: the sync's INSERT and
UPDATE of a page in one statement each, its lookups by one array, its batched transaction.

On PostgreSQL the rows go as one JSON document typed by the table's row type; elsewhere Django's
bulk methods do the work. Both must leave the same rows behind, so every test but the
PostgreSQL-only ones (column lengths and NaN, which SQLite does not enforce or store) runs on
both databases.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from django.db import DataError, connection, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from catalog.models import Attempt, Course, Learner, Tag
from integrations.core import lease
from integrations.core.bulk_fields import plain_fields
from integrations.core.bulk_reads import AnyOf, instances_where, select_by, select_where
from integrations.core.bulk_writes import bulk_insert, bulk_update, insert_rows, update_one
from integrations.core.execute import Reschedule
from integrations.core.transactions import batched_transaction, relaxed_commits
from integrations.models import Integration, SyncPage, SyncRun
from integrations.services import content_sync
from integrations.services.sync import SyncExecutor
from tests.factories import (
    CourseFactory,
    IntegrationFactory,
    LearnerFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="what PostgreSQL enforces and SQLite does not"
)
WHEN = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def _course(integration: Integration, external_id: str, **values) -> Course:
    return Course(
        integration=integration,
        group=integration.group,
        external_id=external_id,
        title=values.pop("title", f"Course {external_id}"),
        name=f"Course {external_id}",
        **values,
    )


def test_insert_sets_primary_keys_in_order_and_stores_every_value() -> None:
    integration = IntegrationFactory()
    courses = [
        _course(integration, "1", authors=["Ann", "Bé"], modified_at=WHEN, duration_minutes=90),
        _course(integration, "2", description="<p>ünïcode ✓</p>", duration_minutes=None),
        _course(integration, "3", image="https://img.test/3.jpg"),
    ]
    bulk_insert(courses)
    assert all(c.pk for c in courses)
    for course in courses:
        stored = Course.objects.get(pk=course.pk)
        assert stored.external_id == course.external_id  # each pk is its own row's
        for field in ("title", "description", "image", "authors", "duration_minutes", "lang"):
            assert getattr(stored, field) == getattr(course, field)
        assert stored.modified_at == course.modified_at
        assert stored.created_at is not None and stored.updated_at is not None  # auto_now(_add)
        assert not course._state.adding


def test_insert_is_one_statement_on_postgresql() -> None:
    integration = IntegrationFactory()
    with CaptureQueriesContext(connection) as queries:
        bulk_insert([_course(integration, str(n)) for n in range(100)])
    if connection.vendor == "postgresql":
        assert len(queries) == 1  # SQLite: Django's batches of its variable limit
    assert Course.objects.filter(integration=integration).count() == 100


def test_insert_of_nothing_sends_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        bulk_insert([])
        bulk_update([], ["title"])
    assert len(queries) == 0


def test_ignore_conflicts_skips_existing_rows() -> None:
    Tag.objects.create(name="Python")
    bulk_insert([Tag(name="Python"), Tag(name="Go")], ignore_conflicts=True)
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Go", "Python"]


def test_update_conflicts_replace_only_the_named_fields() -> None:
    run = SyncRunFactory()
    bulk_insert([SyncPage(run=run, stream="courses", number=1, external_ids=["1", "2"])])
    again = SyncPage(run=run, stream="courses", number=1, external_ids=["3"])
    bulk_insert([again], unique_fields=["run", "stream", "number"], update_fields=["external_ids"])
    assert list(SyncPage.objects.filter(run=run).values_list("external_ids", flat=True)) == [["3"]]


def test_update_writes_the_named_fields_of_the_given_rows_only() -> None:
    integration = IntegrationFactory()
    first, second, other = (CourseFactory(integration=integration) for _ in range(3))
    first.title, first.authors, first.modified_at = "New one", ["Zoé"], WHEN
    second.title, second.lang = "New two", "fr"  # lang is not a named field
    with CaptureQueriesContext(connection) as queries:
        bulk_update([first, second], ["title", "authors", "modified_at"])
    if connection.vendor == "postgresql":
        assert len(queries) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.title, first.authors, first.modified_at) == ("New one", ["Zoé"], WHEN)
    assert (second.title, second.lang) == ("New two", "en")
    assert Course.objects.get(pk=other.pk).title == other.title


def test_attempts_round_trip_floats_booleans_and_nulls() -> None:
    course, learner = CourseFactory(), LearnerFactory()
    attempt = Attempt(
        learner=learner, course=course, progress=0.125, time_spent_ms=2**40, is_open=False,
        completed_at=WHEN, first_activity=None,
    )  # fmt: skip
    bulk_insert([attempt])
    stored = Attempt.objects.get(pk=attempt.pk)
    assert (stored.progress, stored.time_spent_ms, stored.is_open) == (0.125, 2**40, False)
    assert (stored.completed_at, stored.first_activity) == (WHEN, None)
    attempt.progress, attempt.is_open, attempt.completed_at = 1.0, True, None
    bulk_update([attempt], ["progress", "is_open", "completed_at"])
    stored.refresh_from_db()
    assert (stored.progress, stored.is_open, stored.completed_at) == (1.0, True, None)


@postgresql_only
def test_a_value_too_long_for_its_column_fails_instead_of_being_cut() -> None:
    integration = IntegrationFactory()
    with pytest.raises(DataError), transaction.atomic():
        bulk_insert([_course(integration, "1", title="x" * 501)])
    course = CourseFactory(integration=integration)
    course.title = "y" * 501
    with pytest.raises(DataError), transaction.atomic():
        bulk_update([course], ["title"])


@postgresql_only
def test_a_non_finite_float_is_stored_as_such() -> None:
    attempt = Attempt(learner=LearnerFactory(), course=CourseFactory(), progress=math.nan)
    bulk_insert([attempt])
    assert math.isnan(Attempt.objects.get(pk=attempt.pk).progress)


def test_a_model_with_a_field_it_does_not_know_goes_through_the_orm() -> None:
    """The client secret is an encrypted field: its stored value is not its Python value."""
    fields = [f for f in Integration._meta.concrete_fields if not f.primary_key]
    assert not plain_fields(fields)
    assert plain_fields([f for f in Course._meta.concrete_fields if not f.primary_key])


# --------------------------------------------------------------------------- lookups of a page


def test_any_of_finds_what_in_finds() -> None:
    integration = IntegrationFactory()
    courses = [CourseFactory(integration=integration, external_id=str(n)) for n in range(5)]
    learners = [LearnerFactory(email=f"Person{n}@Example.test") for n in range(3)]
    wanted = ["1", "3", "99"]
    found = Course.objects.filter(AnyOf(F("external_id"), wanted), integration=integration)
    assert sorted(found.values_list("external_id", flat=True)) == ["1", "3"]
    by_pk = Course.objects.filter(AnyOf(F("pk"), {courses[0].pk, courses[4].pk}))
    assert set(by_pk) == {courses[0], courses[4]}
    keys = ["person0@example.test", "person2@example.test"]
    matched = Learner.objects.annotate(key=Lower("email")).filter(AnyOf(F("key"), keys))
    assert set(matched) == {learners[0], learners[2]}


def test_any_of_sends_one_array_on_postgresql_and_nothing_for_no_value() -> None:
    ids = [str(n) for n in range(100)]
    with CaptureQueriesContext(connection) as queries:
        list(Course.objects.filter(AnyOf(F("external_id"), ids)))
        assert list(Course.objects.filter(AnyOf(F("external_id"), []))) == []
    assert len(queries) == 1  # the empty list asks nothing, as `__in=[]` does
    if connection.vendor == "postgresql":
        assert "= ANY(" in queries[0]["sql"] and " IN (" not in queries[0]["sql"]


# --------------------------------------------------------------------------- commits of a sync


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@postgresql_only
def test_relaxed_commits_last_only_while_inside_even_after_an_error() -> None:
    assert _synchronous_commit() == "on"
    with relaxed_commits():
        assert _synchronous_commit() == "off"
    assert _synchronous_commit() == "on"
    with pytest.raises(RuntimeError), relaxed_commits():
        raise RuntimeError("the sync failed")
    assert _synchronous_commit() == "on"


@postgresql_only
def test_a_sync_writes_its_pages_with_relaxed_commits_and_its_end_without(
    make_udemy_sandbox, make_integration, run_sync, monkeypatch
) -> None:
    integration = make_integration(make_udemy_sandbox(courses=300, paths=0, learners=1))
    write, seen = content_sync.courses_upsert_page, []

    def recording(**kwargs):
        seen.append(_synchronous_commit())
        return write(**kwargs)

    monkeypatch.setattr(content_sync, "courses_upsert_page", recording)
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    assert seen == ["off", "off", "off"]
    assert _synchronous_commit() == "on"  # the run's closing was committed as usual


@pytest.mark.parametrize(("renew_seconds", "renewals"), [(0, 5), (10, 0)])
def test_a_sync_renews_its_lease_by_time_not_at_every_page(
    make_udemy_sandbox, make_integration, run_sync, monkeypatch, renew_seconds, renewals
) -> None:
    """The lease lasts 10 minutes: pages a few milliseconds apart need not renew it each."""
    integration = make_integration(make_udemy_sandbox(courses=500, paths=0, learners=1))
    monkeypatch.setattr(SyncExecutor, "renew_seconds", renew_seconds)
    calls = []
    renew = lease.renew
    monkeypatch.setattr(lease, "renew", lambda *a, **k: calls.append(1) or renew(*a, **k))
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    assert len(calls) == renewals


def test_rows_with_their_own_primary_key_keep_it() -> None:
    integration = IntegrationFactory()
    course = _course(integration, "7", id=987_654)
    bulk_insert([course])
    assert Course.objects.get(external_id="7", integration=integration).pk == 987_654


# --------------------------------------------------------------------------- rows without instances


def test_insert_rows_returns_the_new_keys_in_order_with_defaults_and_timestamps() -> None:
    integration = IntegrationFactory()
    base = {"integration_id": integration.pk, "group_id": integration.group_id}
    rows = [
        {**base, "external_id": "1", "title": "One", "authors": ["Ann"], "modified_at": WHEN},
        {**base, "external_id": "2", "title": "Two", "duration_minutes": 5},
    ]
    with CaptureQueriesContext(connection) as queries:
        pks = insert_rows(Course, rows)
    if connection.vendor == "postgresql":
        assert len(queries) == 1
    one, two = (Course.objects.get(pk=pk) for pk in pks)
    assert (one.external_id, one.title, one.authors, one.modified_at) == ("1", "One", ["Ann"], WHEN)
    assert (two.external_id, two.duration_minutes, two.authors) == ("2", 5, [])  # a default
    assert (one.status, one.kind, one.archived_at) == (Course.Status.ACTIVE, "course", None)
    assert one.created_at and one.updated_at  # auto_now_add / auto_now


def test_insert_rows_refuses_a_field_the_model_does_not_have() -> None:
    with pytest.raises(TypeError):
        insert_rows(Tag, [{"name": "Go", "colour": "blue"}])
    assert not Tag.objects.exists()


def test_insert_rows_skips_conflicts_and_inserts_nothing_for_no_row() -> None:
    Tag.objects.create(name="Python")
    insert_rows(Tag, [{"name": "Python"}, {"name": "Go"}], ignore_conflicts=True)
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Go", "Python"]
    with CaptureQueriesContext(connection) as queries:
        assert insert_rows(Tag, []) == []
    assert len(queries) == 0


def test_update_one_sets_values_and_adds_to_counters_in_one_statement() -> None:
    run = SyncRunFactory()
    SyncRun.objects.filter(pk=run.pk).update(fetched=5)
    progress = {"courses": {"label": "Courses", "done": 100, "total": None, "ünï": True}}
    with CaptureQueriesContext(connection) as queries:
        changed = update_one(
            SyncRun, run.pk, values={"checkpoint": {"courses": 3}, "stream_progress": progress},
            add={"fetched": 100, "created": 7},
        )  # fmt: skip
    assert (changed, len(queries)) == (1, 1)
    run.refresh_from_db()
    assert (run.fetched, run.created, run.checkpoint) == (105, 7, {"courses": 3})
    assert run.stream_progress == progress
    assert update_one(SyncRun, run.pk, add={"fetched": -5}) == 1
    assert SyncRun.objects.get(pk=run.pk).fetched == 100
    assert update_one(SyncRun, 10**9, add={"fetched": 1}) == 0  # no such row


def test_select_by_finds_what_a_filtered_queryset_finds() -> None:
    integration, other = IntegrationFactory(), IntegrationFactory()
    mine = [CourseFactory(integration=integration, external_id=str(n)) for n in range(3)]
    CourseFactory(integration=other, external_id="1")  # same id, another integration
    CourseFactory(integration=integration, external_id="9", kind=Course.Kind.LEARNING_PATH)
    rows = select_by(
        Course, ("id", "external_id"), "external_id", ["1", "2", "9", "absent"],
        integration_id=integration.pk, kind=Course.Kind.COURSE,
    )  # fmt: skip
    assert sorted(rows) == [(mine[1].pk, "1"), (mine[2].pk, "2")]
    with CaptureQueriesContext(connection) as queries:
        assert select_by(Course, ("id",), "external_id", [], integration_id=integration.pk) == []
    assert len(queries) == 0


def test_select_where_matches_several_sets_lower_cased_and_in_order() -> None:
    integration = IntegrationFactory()
    courses = [CourseFactory(integration=integration, external_id=str(n)) for n in range(3)]
    ann, bob = LearnerFactory(email="Ann@X.test"), LearnerFactory(email="bob@x.test")
    LearnerFactory(email="Gone@X.test", is_active=False)
    rows = select_where(
        Learner, ("email", "id"), any_of={"email": {"ann@x.test", "gone@x.test", "nobody"}},
        equal={"is_active": True}, lower="email",
    )  # fmt: skip
    assert rows == [("ann@x.test", ann.pk)]
    Attempt.objects.create(learner=ann, course=courses[0], number=2)
    Attempt.objects.create(learner=ann, course=courses[0], number=1)
    Attempt.objects.create(learner=bob, course=courses[1], number=1)
    Attempt.objects.create(learner=bob, course=courses[2], number=1)
    found = instances_where(
        Attempt, any_of={"learner_id": {ann.pk, bob.pk}, "course_id": {courses[0].pk,
                                                                     courses[1].pk}},
        order_by=("number",),
    )  # fmt: skip
    assert [(a.learner_id, a.course_id) for a in found].count((ann.pk, courses[0].pk)) == 2
    assert {(a.course_id, a.number) for a in found} == {
        (courses[0].pk, 1), (courses[0].pk, 2), (courses[1].pk, 1),
    }  # fmt: skip
    assert [a.number for a in found] == sorted(a.number for a in found)
    assert all(isinstance(a, Attempt) and not a._state.adding for a in found)
    assert found[0] == Attempt.objects.get(pk=found[0].pk)
    assert select_where(Learner, ("id",), any_of={"email": set()}) == []


def _page_writes(run: SyncRun, course: Course, learner: Learner) -> None:
    """What a page of a sync writes: its rows, one update of another row, the run's counters."""
    insert_rows(
        Attempt, [{"learner_id": learner.pk, "course_id": course.pk, "progress": 12.5}],
        returning=False,
    )  # fmt: skip
    course.title = "Renamed"
    bulk_update([course], ["title"])
    update_one(SyncRun, run.pk, values={"checkpoint": {"courses": 1}}, add={"fetched": 100})


def test_a_batched_transaction_sends_its_writes_in_one_round_trip_on_postgresql() -> None:
    run, course, learner = SyncRunFactory(), CourseFactory(), LearnerFactory()
    with CaptureQueriesContext(connection) as queries, batched_transaction():
        _page_writes(run, course, learner)
        sent_inside = len(queries)
    writes = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    if connection.vendor == "postgresql":
        assert sent_inside <= 1  # nothing but the savepoint of the test's transaction
        assert len(writes) == 1 and writes[0].count(";\n") == 2
    else:
        assert len(writes) == 3  # SQLite: each at once
    run.refresh_from_db()
    assert (run.fetched, run.checkpoint) == (100, {"courses": 1})
    assert Course.objects.get(pk=course.pk).title == "Renamed"
    assert Attempt.objects.get(learner=learner, course=course).progress == 12.5


def test_a_batched_transaction_keeps_the_order_of_its_statements() -> None:
    """A read (or any statement not batched) is preceded by the writes sent before it."""
    run, course, learner = SyncRunFactory(), CourseFactory(), LearnerFactory()
    with batched_transaction():
        update_one(SyncRun, run.pk, add={"fetched": 7})
        assert SyncRun.objects.get(pk=run.pk).fetched == 7
        insert_rows(Attempt, [{"learner_id": learner.pk, "course_id": course.pk}],
                    returning=False)  # fmt: skip
        Attempt.objects.filter(learner=learner).update(progress=50.0)  # an ORM write after it
    assert Attempt.objects.get(learner=learner).progress == 50.0


def test_a_batched_transaction_that_raises_sends_nothing_and_keeps_nothing() -> None:
    run, course, learner = SyncRunFactory(), CourseFactory(), LearnerFactory()

    def failing_page() -> None:
        with batched_transaction():
            _page_writes(run, course, learner)
            raise RuntimeError("the page failed")

    with pytest.raises(RuntimeError):
        failing_page()
    run.refresh_from_db()
    assert run.fetched == 0 and not Attempt.objects.exists()
    assert Course.objects.get(pk=course.pk).title != "Renamed"


@postgresql_only
def test_a_batched_write_that_fails_fails_its_transaction() -> None:
    run, course, learner = SyncRunFactory(), CourseFactory(), LearnerFactory()

    def page_with_a_bad_row() -> None:
        with batched_transaction():
            update_one(SyncRun, run.pk, add={"fetched": 5})
            insert_rows(Attempt, [{"learner_id": learner.pk, "course_id": course.pk,
                                   "fingerprint": "x" * 65}], returning=False)  # fmt: skip

    with pytest.raises(DataError):
        page_with_a_bad_row()
    run.refresh_from_db()
    assert run.fetched == 0 and not Attempt.objects.exists()


def test_a_sync_whose_lease_was_taken_stops_writing(
    make_udemy_sandbox, make_integration, run_sync, monkeypatch
) -> None:
    """A worker that stalled past its lease while another run took it stops at its next renewal
    instead of writing beside the new holder (its run comes back later)."""
    integration = make_integration(make_udemy_sandbox(courses=500, paths=0, learners=1))
    monkeypatch.setattr(SyncExecutor, "renew_seconds", 0)
    renew = lease.renew

    def taken(model, **scope):
        model.objects.filter(kind=scope["kind"]).update(holder="run:other")
        return renew(model, **scope)

    monkeypatch.setattr(lease, "renew", taken)
    with pytest.raises(Reschedule, match="another run holds it"):
        run_sync(integration)
    assert Course.objects.filter(integration=integration).count() < 500
