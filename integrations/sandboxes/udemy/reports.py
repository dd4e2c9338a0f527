"""User-course-activity generation of the Udemy sandbox (a mixin of `UdemyData`).

The rows of the `analytics/user-course-activity` report: one per learner x course, in every
state (not started, in progress, completed, completed without a start), with mixed-case e-mails
and anonymized users, as the Udemy Business API guide describes them.

`completion_ratio` is served on a 0-100 scale (with some decimals, as real reports have) or,
with the 0-1 switch (`ratio_scale="0-1"`), as fractions: the guide does not say which.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..exchange import iso
from .catalog import Catalog
from .vocabulary import DOMAINS, FIRST_NAMES, LAST_NAMES, slugify

# Activity row states; the first learner gets one of each so every case is always present.
NOT_STARTED, IN_PROGRESS, COMPLETED, COMPLETED_NO_START = (
    "not_started",
    "in_progress",
    "completed",
    "completed_no_start",
)
FIRST_LEARNER_STATES = [COMPLETED, IN_PROGRESS, NOT_STARTED, COMPLETED_NO_START, IN_PROGRESS]
ANONYMIZED = "Anonymized User"
PERCENT, FRACTION = "0-100", "0-1"  # completion_ratio scales of the served report


class Reports(Catalog):
    """Builds activity rows (of the catalog's courses) from the organization's seeded `_rng`."""

    learner_emails: list[str]
    unknown_emails: list[str]
    _used_emails: set[str]

    def _generate_activity(self, learners: int, per_learner: int) -> None:
        people = [self._learner(i) for i in range(learners)]
        self.learner_emails = [p["email"] for p in people]
        for i, person in enumerate(people):
            k = min(per_learner, len(self.courses))
            for j, course in enumerate(self._rng.sample(self.courses, k)):
                state = self._state(i, j)
                # Mixed-case learners show up both ways in the same report.
                email = person["report_email"] if j % 2 == 0 else person["email"]
                self.activity.append(self._row(person, email, course, state))
        if not self.courses:
            return
        for n in range(max(1, learners // 20)):
            position = self._rng.randint(0, len(self.activity))
            self.activity.insert(position, self._anonymized_row(n))

    def _generate_strangers(self, learners: int, count: int) -> None:
        for n in range(count if self.courses else 0):
            stranger = self._learner(learners + n, domain="partner.example.net")
            self.unknown_emails.append(stranger["email"])
            course = self._rng.choice(self.courses)
            self.activity.append(self._row(stranger, stranger["email"], course, IN_PROGRESS))

    def _state(self, learner: int, row: int) -> str:
        if learner == 0 and row < len(FIRST_LEARNER_STATES):
            return FIRST_LEARNER_STATES[row]
        roll = self._rng.random()
        if roll < 0.2:
            return NOT_STARTED
        if roll < 0.6:
            return IN_PROGRESS
        return COMPLETED if roll < 0.95 else COMPLETED_NO_START

    def _learner(self, index: int, domain: str | None = None) -> dict:
        first, last = FIRST_NAMES[index % len(FIRST_NAMES)], self._rng.choice(LAST_NAMES)
        domain = domain or DOMAINS[index % len(DOMAINS)]
        local = f"{slugify(first)}.{slugify(last)}"
        email = f"{local}@{domain}"
        n = 2
        while email in self._used_emails:
            email, n = f"{local}{n}@{domain}", n + 1
        self._used_emails.add(email)
        mixed = index % 7 == 2  # e.g. "Jane.Doe@Example.com" for jane.doe@example.com
        report_email = _mixed_case(email) if mixed else email
        return {
            "first": first,
            "last": last,
            "email": email,
            "report_email": report_email,
            "user_id": 90_000 + index * 13,
            "external_id": f"EMP{index:05d}" if index % 3 else None,
            "lms_user_id": f"lms-{index}" if index % 4 else None,
            "deactivated": index % 13 == 5,
        }

    def _row(self, person: dict, email: str, course: dict, state: str) -> dict:
        rng = self._rng
        enrolled = self.anchor - timedelta(days=rng.randint(20, 700), seconds=rng.randint(0, 86399))
        assigned = rng.random() < 0.4
        row = {
            "_class": "user_course_activity",
            "user_id": person["user_id"],
            "user_name": person["first"],
            "user_surname": person["last"],
            "user_email": email,
            "user_role": "student",
            "user_external_id": person["external_id"],
            "course_id": course["id"],
            "course_title": course["title"],
            "course_category": course["categories"][0],
            "course_duration": round(course["estimated_content_length"] * 0.9, 1),
            "completion_ratio": 0,
            "num_video_consumed_minutes": 0,
            "course_enroll_date": iso(enrolled),
            "course_start_date": None,
            "course_completion_date": None,
            "course_first_completion_date": None,
            "course_last_accessed_date": None,
            "last_activity_date": iso(enrolled),
            "is_assigned": "Yes" if assigned else "No",
            "assigned_by": "learning.admin@example.com" if assigned else None,
            "user_is_deactivated": person["deactivated"],
            "lms_user_id": person["lms_user_id"],
        }
        self._apply_state(row, state, enrolled)
        return row

    def _apply_state(self, row: dict, state: str, enrolled: datetime) -> None:
        if state == NOT_STARTED:
            return
        started = self._moment(enrolled, 30)
        if state == IN_PROGRESS:
            ratio = self._rng.randint(1, 99)
            # The scale of upstream decimals varies: some rows carry a fraction.
            row["completion_ratio"] = ratio + 0.5 if ratio % 5 == 0 else ratio
            row["num_video_consumed_minutes"] = int(row["course_duration"] * ratio / 100)
            row["course_start_date"] = iso(started)
            row["course_last_accessed_date"] = row["last_activity_date"] = iso(
                self._moment(started, 60)
            )
            return
        if state == COMPLETED:
            row["course_start_date"] = iso(started)
        complete(row, self._moment(started, 90))

    def _anonymized_row(self, n: int) -> dict:
        person = {
            "first": "Anonymized",
            "last": "User",
            "user_id": None,
            "external_id": None,
            "lms_user_id": None,
            "deactivated": False,
        }
        state = [COMPLETED, IN_PROGRESS, NOT_STARTED][n % 3]
        return self._row(person, ANONYMIZED, self._rng.choice(self.courses), state)


def _mixed_case(email: str) -> str:
    local, _, domain = email.partition("@")
    return ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()


def full_ratio(scale: str) -> float | int:
    """A completed course's completion_ratio on `scale`."""
    return 1.0 if scale == FRACTION else 100


def rescale(value: float | int, scale: str) -> float | int:
    """A 0-100 completion_ratio written on `scale`."""
    return round(value / 100, 6) if scale == FRACTION else value


def state_of(row: dict) -> str:
    if row["course_completion_date"]:
        return COMPLETED if row["course_start_date"] else COMPLETED_NO_START
    return IN_PROGRESS if row["course_start_date"] else NOT_STARTED


def complete(row: dict, when: datetime, scale: str = PERCENT) -> None:
    row["completion_ratio"] = full_ratio(scale)
    row["num_video_consumed_minutes"] = int(row["course_duration"])
    row["course_completion_date"] = iso(when)
    row["course_first_completion_date"] = row["course_first_completion_date"] or iso(when)
    row["course_last_accessed_date"] = row["last_activity_date"] = iso(when)
