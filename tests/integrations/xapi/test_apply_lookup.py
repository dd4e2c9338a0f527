"""Promise: a batch of statements reads the attempts of its own (learner, course) pairs only,
the latest of each, not every attempt of its learners on its courses (a superset that grows
with every attempt stored: the apply rate fell as the table filled)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.services.xapi_apply import attempts_latest
from tests.factories import AttemptFactory, CourseFactory, LearnerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("missing_on", ["course", "learner"])
def test_the_latest_attempt_of_each_pair_and_nothing_else(missing_on):
    people = [LearnerFactory() for _ in range(3)]
    items = [CourseFactory() for _ in range(3)]
    stored = {}
    for person in people:  # every pair has attempts: a cross-product read would see them all
        for item in items:
            for number in (1, 2):
                stored[(person.pk, item.pk, number)] = AttemptFactory(
                    learner=person, course=item, number=number
                )
    asked = {(people[0].pk, items[0].pk), (people[1].pk, items[1].pk)}
    # A pair without attempt: a new course of a learner, or a new learner on a course.
    missing = (
        (people[0].pk, CourseFactory().pk)
        if missing_on == "course"
        else (LearnerFactory().pk, items[0].pk)
    )
    with CaptureQueriesContext(connection) as queries:
        latest = attempts_latest(asked | {missing})
    assert len(queries) == 1
    assert set(latest) == asked
    assert all(latest[pair] == stored[(*pair, 2)] for pair in asked)


def test_no_pair_reads_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert attempts_latest(set()) == {}
    assert len(queries) == 0


def test_a_batch_of_distinct_pairs_beyond_one_query(monkeypatch):
    monkeypatch.setattr("integrations.services.xapi_apply.LOOKUP_PAIRS", 2)
    people = [LearnerFactory() for _ in range(5)]
    items = [CourseFactory() for _ in range(5)]
    pairs = zip(people, items, strict=True)
    attempts = {(p.pk, c.pk): AttemptFactory(learner=p, course=c) for p, c in pairs}
    with CaptureQueriesContext(connection) as queries:
        assert attempts_latest(set(attempts)) == attempts
    assert len(queries) == 3
