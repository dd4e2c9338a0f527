"""The Udemy sandbox's organization: deterministic data from a seed, and its mutators."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .reports import IN_PROGRESS, Reports, complete, state_of
from .vocabulary import ANCHOR


class SandboxData(Reports):
    """A deterministic Udemy organization: catalog, learning paths and learner activity.

    `learner_emails` are the learners as the learning platform knows them (canonical lower-case);
    activity rows may spell them with other case. `unknown_emails` (none unless asked for) appear
    in activity but are not learners of the platform. Mutators (`add_courses`,
    `update_courses`, `retire_courses`, `advance_progress`) are deterministic too.
    """

    def __init__(self, *, seed: int, organization_name: str) -> None:
        self.seed = seed
        self.organization_name = organization_name
        self.courses: list[dict] = []
        self.learning_paths: list[dict] = []
        self.activity: list[dict] = []
        self.learner_emails: list[str] = []
        self.unknown_emails: list[str] = []
        self._rng = random.Random(seed)
        self._now = ANCHOR
        self._used_ids: set[int] = set()
        self._used_slugs: set[str] = set()
        self._used_emails: set[str] = set()
        self._revisions: dict[int, tuple[str, str, int]] = {}  # id -> (title, description, n)

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
    ) -> SandboxData:
        """Build the organization. `unknown_learners` adds activity of people missing from
        `learner_emails` (by default every non-anonymized row belongs to a known learner)."""
        data = cls(seed=seed, organization_name=organization_name)
        data.courses = [data._new_course(i) for i in range(courses)]
        data.learning_paths = [data._new_path(i) for i in range(paths)]
        data._generate_activity(learners, activity_per_learner)
        data._generate_strangers(learners, unknown_learners)
        # Mutations draw from their own stream so they do not depend on how much was generated.
        data._rng = random.Random(seed * 7919 + 17)
        return data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SandboxData):
            return NotImplemented
        return self.snapshot() == other.snapshot()

    __hash__ = None  # type: ignore[assignment]

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
        moved: list[tuple[str, int]] = []
        for row in self.activity:
            if len(moved) >= n:
                break
            if state_of(row) == IN_PROGRESS and "@" in row["user_email"]:
                complete(row, now)
                moved.append((row["user_email"].lower(), row["course_id"]))
        return moved

    def _tick(self) -> datetime:
        self._now += timedelta(days=1)
        return self._now
