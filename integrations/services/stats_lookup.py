"""Who and what a statistics row names: its learner (by e-mail) and its course (by Udemy id).

A statistics sync writes no learner nor course: it only reads their ids. A report names every
learner of the organization and comes back to the same courses on many pages, so the ids are
read once per execution and remembered (`RememberedIds`), while a page is mapped rather than
while it is written (`match_while_mapping`). Only learners of the integration's audience are
matched (`stats_audience`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.db.models.functions import Lower

from catalog.models import Attempt, Course, Learner
from integrations.core.bulk_reads import select_by, select_where
from integrations.core.records import StatRecord
from integrations.models import Integration
from integrations.providers.base import PageLike, Stream

from .attempts import as_row, attempt_pairs, attempts_lookup
from .paging import map_every_item
from .stats_audience import Audience, all_members, matched_only, members_of, scoped

LOOKUP_MEMORY = 20_000  # e-mails, and course ids, a statistics sync remembers the id of


class MatchedRows(list):
    """A page's rows with the learners and courses they name and their stored attempts, looked
    up as the page was mapped (`match_while_mapping`), while the pages before were committed
    (`pipeline.PageCommits`): a statistics sync writes no learner nor course, and the attempts
    of the pairs those pages wrote are read again by its writer (`stats_sync._LastPages`)."""

    learners: dict[str, int]
    outside: set[str]  # e-mails of learners who do not see the catalog (`stats_audience`)
    courses: dict[str, int]
    attempts: list[Attempt]


def match_while_mapping(integration: Integration, audience: Audience) -> Callable[..., tuple]:
    """The report's `PageMapper`: every row mapped, then its learner and course looked up —
    all of them read at once when there are at most `LOOKUP_MEMORY` (one statement per
    execution instead of one per page: a report names every learner), else each e-mail and
    course id once per execution (a learner's rows span pages, and a course comes back on
    many), up to `LOOKUP_MEMORY` of each remembered. Only learners of `audience` are
    matched; the others are remembered as `stats_audience.OUTSIDE`."""
    learners = RememberedIds(learners_by_email, everything=all_learners)
    inside = _audience_members(audience)
    courses = RememberedIds(
        partial(courses_by_id, integration), everything=partial(all_courses, integration)
    )

    def mapper(*, stream: Stream, page: PageLike) -> tuple:
        records, bad, seen, counts = map_every_item(stream=stream, page=page)
        named = [r.record for r in map(as_row, records) if not r.record.is_anonymized]
        rows = MatchedRows(records)
        found = learners({r.email_key for r in named})
        rows.learners, rows.outside = matched_only(
            scoped(found, inside(set(found.values())) if inside else None)
        )
        rows.courses = courses({r.external_course_id for r in named})
        matched = [r for r in named if r.email_key in rows.learners
                   and r.external_course_id in rows.courses]  # fmt: skip
        rows.attempts = attempts_lookup(attempt_pairs(matched, rows.learners, rows.courses))
        for record in matched:  # here, not in the writer: it is the one that waits
            record.fingerprint  # noqa: B018 - computed once, kept on the record
        return rows, bad, seen, counts

    return mapper


class RememberedIds:
    """`lookup(keys) -> {key: id}` with the answers (misses too) remembered, up to `limit`
    keys (the oldest forgotten first: memory stays bounded whatever the report's size).

    `everything(n)`: all the keys and ids when there are at most `n`, else None; asked once,
    at the first call: when they fit, every later call is answered from memory.

    For what does not change during a statistics sync: the learners (a learner registered
    meanwhile is matched from the next sync on) and the catalog's courses (a statistics sync
    waits for the content sync to end)."""

    def __init__(
        self,
        lookup: Callable[[set[str]], dict[str, int]],
        limit: int = LOOKUP_MEMORY,
        everything: Callable[[int], dict[str, int] | None] | None = None,
    ) -> None:
        self.lookup, self.limit, self.everything = lookup, limit, everything
        self.known: dict[str, int | None] = {}
        self.complete = False

    def __call__(self, keys: set[str]) -> dict[str, int]:
        if self.everything is not None:
            every, self.everything = self.everything(self.limit), None
            if every is not None:
                self.known, self.complete = dict(every), True
        if self.complete:
            return {key: value for key in keys if (value := self.known.get(key)) is not None}
        missing = {key for key in keys if key not in self.known}
        found = self.lookup(missing) if missing else {}
        for key in missing:
            self.known[key] = found.get(key)
        ids = {key: value for key in keys if (value := self.known.get(key)) is not None}
        while len(self.known) > self.limit:
            del self.known[next(iter(self.known))]
        return ids


def _audience_members(audience: Audience) -> RememberedIds | None:
    """Which learner ids belong to `audience` (None: everyone does), remembered as e-mails are
    (`RememberedIds`, keyed by learner id)."""
    if audience is None:
        return None
    return RememberedIds(partial(members_of, audience), everything=partial(all_members, audience))


def learner_ids(records: list[StatRecord], audience: Audience) -> dict[str, int]:
    """The learners of the records' e-mails, `stats_audience.OUTSIDE` for those outside
    `audience` (two statements)."""
    found = learners_by_email({r.email_key for r in records})
    if audience is None or not found:
        return found
    return scoped(found, members_of(audience, set(found.values())))


def learners_by_email(keys: set[str]) -> dict[str, int]:
    """The active learners of these e-mails (lower-cased): {e-mail: id}."""
    if not keys:
        return {}
    rows = select_where(
        Learner, ("email", "id"), any_of={"email": keys}, equal={"is_active": True}, lower="email"
    )
    return dict(rows)


def all_learners(limit: int) -> dict[str, int] | None:
    """Every active learner, {e-mail: id}, when there are at most `limit`; else None."""
    rows = list(
        Learner.objects.filter(is_active=True)
        .annotate(email_key=Lower("email"))
        .order_by()
        .values_list("email_key", "id")[: limit + 1]
    )
    return dict(rows) if len(rows) <= limit else None


def course_ids(integration: Integration, records: list[StatRecord]) -> dict[str, int]:
    """The catalog's courses the records name: {Udemy id: id}."""
    return courses_by_id(integration, {r.external_course_id for r in records})


def courses_by_id(integration: Integration, ids: set[str]) -> dict[str, int]:
    """The catalog's courses of these Udemy ids: {Udemy id: id}."""
    if not ids:
        return {}
    # Archived courses keep their statistics: match them too.
    rows = select_by(
        Course, ("external_id", "id"), "external_id", ids,
        integration_id=integration.pk, kind=Course.Kind.COURSE,
    )  # fmt: skip
    return dict(rows)


def all_courses(integration: Integration, limit: int) -> dict[str, int] | None:
    """Every course of the catalog, {Udemy id: id}, when there are at most `limit`; else None."""
    # Archived courses keep their statistics: match them too.
    rows = list(
        Course.objects.filter(integration=integration, kind=Course.Kind.COURSE)
        .order_by()
        .values_list("external_id", "id")[: limit + 1]
    )
    return dict(rows) if len(rows) <= limit else None
