"""The sandbox's learners progressing, told as xAPI statements the way Udemy Business pushes them.

Udemy Business sends a *progress* and a *completion* statement per learner and course or
learning path (Udemy Business help "Learning Management System Integration: xAPI" and
"… xAPI Statements"; xAPI 1.0.3). Those are the only two events it publishes, so a learner
opening an item for the first time (a launch) is told as a `progressed` statement at 0 %:
the door accepts ADL's `progressed` and `completed` verbs only.

`LearnerFeed(data)` follows the sandbox organization's known learners on the courses they have
not finished (their activity rows) and on one learning path each. `advance(n, now)` moves `n`
of them forward: a launch, a progress step, or a completion at 100 %. A course's activity row
moves with it, so the daily report the sandbox serves agrees with what was pushed. When every
one has finished, learners enroll in new courses (`UdemyData.enroll_only`) and go on.

On demand, for the door's guarantees: `duplicates(n)` gives the last statements again (same
ids, same content: xAPI 1.0.3 makes that a no-op), `out_of_order(n)` statements older than
what was already sent, with a lower progress (they must not move progress backwards).

Object ids are the items' URLs (the course's `url`, the learning path's `url`): Udemy does not
publish its object ids, and the URL is one the door matches. Pure bookkeeping: no I/O; the
caller holds the sandbox's lock while it mutates the organization.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..exchange import iso
from .data import UdemyData
from .reports import COMPLETED, COMPLETED_NO_START, FRACTION, complete, rescale, state_of

# The xAPI vocabulary Udemy Business sends (ADL verbs, the cmi5 progress extension), spelled here
# apart from the product's intake: a typo on either side then fails a test.
VERB_PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"

COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
PATH_TYPE = "http://adlnet.gov/expapi/activities/module"  # a learning path: a set of items
STEP = (10, 35)  # percentage points a learner moves at once
OUT_OF_ORDER_AGE = timedelta(minutes=30)
RECENT = 2000  # statements kept for `duplicates`
ENROLL_WHEN_DONE = 5  # learners enrolled in a new course once every pair has finished


@dataclass
class Pair:
    """A learner on one course or learning path, as far as the feed has told it."""

    email: str
    kind: str  # "course" or "learning_path"
    object_id: str
    title: str
    progress: float  # 0–100
    row: dict | None = None  # the course's activity row, kept in step with the statements
    started: bool = False
    done: bool = False
    last_at: datetime | None = None


class LearnerFeed:
    """Learners of a `UdemyData` progressing (see the module docstring)."""

    def __init__(self, data: UdemyData, *, seed: int = 1, paths: bool = True) -> None:
        self.data = data
        self._rng = random.Random(seed * 31 + 7)  # noqa: S311 - deterministic data, not security
        self._recent: deque[dict] = deque(maxlen=RECENT)
        self._known = set(data.learner_emails)
        courses = {c["id"]: c for c in data.courses}
        self.pairs: list[Pair] = []
        self._seen_rows: set[int] = set()
        self._add_rows(courses)
        if paths and data.learning_paths:
            for i, email in enumerate(data.learner_emails):
                path = data.learning_paths[i % len(data.learning_paths)]
                self.pairs.append(
                    Pair(email, "learning_path", path["url"], path["title"], progress=0.0)
                )

    # ------------------------------------------------------------------ statements

    def advance(self, n: int, now: datetime) -> list[dict]:
        """`n` learners (at most one statement each) move forward at `now`."""
        candidates = [p for p in self.pairs if not p.done]
        if not candidates:
            self.data.enroll_only(ENROLL_WHEN_DONE)
            self._add_rows({c["id"]: c for c in self.data.courses})
            candidates = [p for p in self.pairs if not p.done]
        chosen = self._rng.sample(candidates, min(n, len(candidates)))
        statements = [self._step(pair, now) for pair in chosen]
        self._recent.extend(statements)
        return statements

    def duplicates(self, n: int) -> list[dict]:
        """The last `n` statements sent, again (same id, same content)."""
        return [dict(s) for s in list(self._recent)[-n:]] if n > 0 else []

    def out_of_order(self, n: int) -> list[dict]:
        """`n` statements dated before what was already sent on their pair, with a lower
        progress: a late delivery (new ids). They change nothing the door applied."""
        told = [p for p in self.pairs if p.started and p.last_at is not None]
        chosen = self._rng.sample(told, min(n, len(told)))
        return [
            statement(
                pair,
                VERB_PROGRESSED,
                max(0.0, pair.progress - 25.0),
                pair.last_at - OUT_OF_ORDER_AGE,
                self._uuid(),
            )
            for pair in chosen
        ]

    @property
    def finished(self) -> int:
        return sum(1 for p in self.pairs if p.done)

    def _step(self, pair: Pair, now: datetime) -> dict:
        if not pair.started:  # a launch: the first statement of the pair
            pair.started = True
            verb, progress = VERB_PROGRESSED, pair.progress
        else:
            progress = min(100.0, pair.progress + self._rng.randint(*STEP))
            verb = VERB_COMPLETED if progress >= 100 else VERB_PROGRESSED
        pair.progress, pair.last_at = progress, now
        pair.done = verb == VERB_COMPLETED
        if pair.row is not None:
            _move_row(pair.row, progress, now, self.data.ratio_scale)
        return statement(pair, verb, progress, now, self._uuid())

    def _add_rows(self, courses: dict[int, dict]) -> None:
        """Pairs for the known learners' unfinished course rows not followed yet."""
        for row in self.data.activity:
            email = str(row["user_email"]).lower()
            course = courses.get(row["course_id"])
            if id(row) in self._seen_rows or email not in self._known or course is None:
                continue
            self._seen_rows.add(id(row))
            if state_of(row) in (COMPLETED, COMPLETED_NO_START):
                continue
            ratio = float(row["completion_ratio"] or 0)
            percent = ratio * 100 if self.data.ratio_scale == FRACTION else ratio
            pair = Pair(email, "course", course["url"], course["title"], percent, row=row)
            pair.started = percent > 0
            self.pairs.append(pair)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def statement(pair: Pair, verb: str, progress: float, when: datetime, sid: str) -> dict[str, Any]:
    """An xAPI 1.0.3 statement of `pair`: cmi5's progress extension (0–100) and, for a
    completion, `result.completion`."""
    completed = verb == VERB_COMPLETED
    name = "completed" if completed else "progressed"
    return {
        "id": sid,
        "actor": {"objectType": "Agent", "mbox": f"mailto:{pair.email}"},
        "verb": {"id": verb, "display": {"en-US": name}},
        "object": {
            "objectType": "Activity",
            "id": pair.object_id,
            "definition": {
                "type": COURSE_TYPE if pair.kind == "course" else PATH_TYPE,
                "name": {"en-US": pair.title},
            },
        },
        "result": {"completion": completed, "extensions": {CMI5_PROGRESS: round(progress, 2)}},
        "timestamp": when.isoformat(timespec="milliseconds"),
    }


def _move_row(row: dict, progress: float, now: datetime, scale: str) -> None:
    """The activity row as the next daily report shows it after the learner's step."""
    if progress >= 100:
        row["course_start_date"] = row["course_start_date"] or iso(now)
        complete(row, now, scale)
        return
    row["completion_ratio"] = rescale(round(progress, 2), scale)
    row["num_video_consumed_minutes"] = int(row["course_duration"] * progress / 100)
    row["course_start_date"] = row["course_start_date"] or iso(now)
    row["course_last_accessed_date"] = row["last_activity_date"] = iso(now)
