"""The Udemy sandbox's organization: deterministic data from a seed, and its mutators."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, datetime
from itertools import islice
from typing import Any

from ..exchange import iso
from .reports import (
    COMPLETED,
    FRACTION,
    IN_PROGRESS,
    NOT_STARTED,
    PERCENT,
    Reports,
    complete,
    rescale,
    state_of,
)
from .vocabulary import TICK, anchor_for


class UdemyData(Reports):
    """A deterministic Udemy organization: catalog, learning paths and learner activity.

    `learner_emails` are the learners as the learning platform knows them (canonical lower-case);
    activity rows may spell them with other case. `unknown_emails` (none unless asked for) appear
    in activity but are not learners of the platform. Mutators (`add_courses`,
    `update_courses`, `retire_courses`, `advance_progress`, `enroll_only`, `relaunch_completed`,
    `use_ratio_scale`) are deterministic too.

    Dates are offsets from `anchor` (see `anchor_for`): relative to `today`, the current UTC date
    unless given, so that the activity is recent whenever the demo starts; pass a fixed `today`
    for data that never changes.
    """

    def __init__(self, *, seed: int, organization_name: str, today: date | None = None) -> None:
        self.seed = seed
        self.organization_name = organization_name
        self.anchor = anchor_for(today)
        self.courses: list[dict] = []
        self.learning_paths: list[dict] = []
        self.activity: list[dict] = []
        self.learner_emails: list[str] = []
        self.unknown_emails: list[str] = []
        self._rng = random.Random(seed)  # noqa: S311 - deterministic data, not security
        self._now = self.anchor
        self._used_ids: set[int] = set()
        self._used_slugs: set[str] = set()
        self._used_emails: set[str] = set()
        self._revisions: dict[int, tuple[str, str, int]] = {}  # id -> (title, description, n)
        self.ratio_scale = PERCENT

    @classmethod
    def generate(
        cls,
        *,
        organization_name: str = "demo",
        seed: int = 1,
        courses: int = 300,
        paths: int = 12,
        learners: int = 60,
        activity_per_learner: int = 5,
        unknown_learners: int = 0,
        ratio_scale: str = PERCENT,
        today: date | None = None,
    ) -> UdemyData:
        """Build the organization. `unknown_learners` adds activity of people missing from
        `learner_emails` (by default every non-anonymized row belongs to a known learner);
        `ratio_scale="0-1"` serves completion ratios as fractions (a 0-1 report); `today`
        (default: the current UTC date) is the day the activity leads up to."""
        data = cls(seed=seed, organization_name=organization_name, today=today)
        data.courses = [data._new_course(i) for i in range(courses)]
        data.learning_paths = [data._new_path(i) for i in range(paths)]
        data._generate_activity(learners, activity_per_learner)
        data._generate_strangers(learners, unknown_learners)
        data.use_ratio_scale(ratio_scale)
        # Mutations draw from their own stream so they do not depend on how much was generated.
        data._rng = random.Random(seed * 7919 + 17)  # noqa: S311 - deterministic data
        return data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UdemyData):
            return NotImplemented
        return self.snapshot() == other.snapshot()

    __hash__ = None  # type: ignore[assignment]

    def counts(self) -> dict[str, int]:
        """What the organization holds, for the sandbox's `state()`."""
        return {
            "courses": len(self.courses),
            "learning_paths": len(self.learning_paths),
            "activity": len(self.activity),
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "courses": self.courses,
            "learning_paths": self.learning_paths,
            "activity": self.activity,
            "learner_emails": self.learner_emails,
        }

    # ------------------------------------------------------------------ mutators

    def add_courses(self, n: int) -> list[dict]:
        """Append `n` new courses (new ids) to the catalog and return them."""
        added = [self._new_course(len(self.courses) + i) for i in range(n)]
        self.courses.extend(added)
        return added

    def update_courses(self, ids: Iterable[int]) -> None:
        """Give the courses a new title and description, as an instructor update would."""
        self._tick()
        wanted = {int(i) for i in ids}
        for course in self.courses:
            if course["id"] in wanted:
                self._revise(course)

    def retire_courses(self, ids: Iterable[int]) -> None:
        """Remove the courses from the catalog; their activity rows stay (reports keep history)."""
        wanted = {int(i) for i in ids}
        self.courses = [c for c in self.courses if c["id"] not in wanted]

    def advance_progress(self, n: int) -> list[tuple[str, int]]:
        """Complete the first `n` in-progress rows; returns (canonical email, course_id) pairs."""
        now = self._tick()
        rows = self._learners_rows(IN_PROGRESS, n)
        for row in rows:
            complete(row, now, self.ratio_scale)
        return [(row["user_email"].lower(), row["course_id"]) for row in rows]

    def use_ratio_scale(self, scale: str) -> None:
        """Serve completion_ratio on `scale` ("0-100" or "0-1": the 0-1 report switch)."""
        if scale not in (PERCENT, FRACTION):
            raise ValueError(f"unknown ratio scale {scale!r}")
        if scale == self.ratio_scale:
            return
        for row in self.activity:
            value = row["completion_ratio"]
            row["completion_ratio"] = (
                rescale(value, FRACTION) if scale == FRACTION else round(value * 100, 4)
            )
        self.ratio_scale = scale

    def enroll_only(self, n: int) -> list[tuple[str, int]]:
        """Enroll (assign) the first `n` learners in a course they have no row for, without
        starting it: an enroll date, no start date, no progress, no minutes. Returns (canonical
        email, course_id) pairs."""
        now = self._tick()
        enrolled: list[tuple[str, int]] = []
        taken = {(str(r["user_email"]).lower(), r["course_id"]) for r in self.activity}
        for email in self.learner_emails[:n]:
            course = next((c for c in self.courses if (email, c["id"]) not in taken), None)
            if course is None:
                continue
            person = self._person_of(email)
            row = self._row(person, email, course, NOT_STARTED)
            row["course_enroll_date"] = row["last_activity_date"] = iso(now)
            row["completion_ratio"] = rescale(0, self.ratio_scale)
            row["is_assigned"], row["assigned_by"] = "Yes", "learning.admin@example.com"
            self.activity.append(row)
            enrolled.append((email, course["id"]))
        return enrolled

    def relaunch_completed(self, n: int, minutes: int = 40) -> list[tuple[str, int]]:
        """The first `n` completed courses of known learners are opened again and watched for
        `minutes` more (a relaunch after completion): more minutes, a new last access, the
        completion kept. Returns (canonical email, course_id) pairs."""
        now = self._tick()
        rows = self._learners_rows(COMPLETED, n)
        for row in rows:
            row["num_video_consumed_minutes"] += minutes
            row["course_last_accessed_date"] = row["last_activity_date"] = iso(now)
        return [(row["user_email"].lower(), row["course_id"]) for row in rows]

    def _learners_rows(self, state: str, n: int) -> list[dict]:
        """The first `n` activity rows in `state` that name a learner (not anonymized)."""
        rows = (r for r in self.activity if state_of(r) == state and "@" in r["user_email"])
        return list(islice(rows, max(0, n)))

    def _person_of(self, email: str) -> dict:
        """A report's person fields for a known learner (deterministic from the e-mail)."""
        first, _, rest = email.partition("@")[0].partition(".")
        index = self.learner_emails.index(email)
        return {
            "first": first.capitalize(),
            "last": rest.capitalize(),
            "user_id": 90_000 + index * 13,
            "external_id": None,
            "lms_user_id": None,
            "deactivated": False,
        }

    def _tick(self) -> datetime:
        self._now += TICK
        return self._now
