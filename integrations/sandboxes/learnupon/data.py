"""Deterministic data of the LearnUpon sandbox: a portal built from a seed, and its mutators."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ..exchange import iso

ANCHOR = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)  # the data's "now": no wall clock
FIRST = ["Ada", "Bruno", "Chloé", "Dev", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST = ["Martin", "Okafor", "Tanaka", "Silva", "Dubois", "Kowalski", "Haddad", "Kim", "Rossi"]
DEPARTMENTS = ["Sales", "Engineering", "Support", "Marketing", "Finance", "People", "Legal"]
COMPLETE = {"completed", "passed", "failed"}


class LearnUponData:
    """A deterministic portal: an admin (the course owner), users, flat groups, memberships,
    and what the push creates (courses, group courses, enrollments, mark-completes)."""

    ADMIN_ID = 1

    def __init__(self, *, seed: int, portal: str) -> None:
        self.seed, self.portal = seed, portal
        self.users: list[dict] = []
        self.groups: list[dict] = []
        self.memberships: dict[int, list[int]] = {}
        self.courses: dict[int, dict] = {}
        self.group_courses: dict[int, dict] = {}
        self.enrollments: dict[int, dict] = {}
        self.markcompletes: list[dict] = []
        self._rng = random.Random(seed)  # noqa: S311 - deterministic data, not security
        self._next = 900_000

    @classmethod
    def generate(
        cls, *, seed: int = 1, users: int = 60, groups: int = 4, portal: str = "demo"
    ) -> LearnUponData:
        data = cls(seed=seed, portal=portal)
        data.users.append(data._user(cls.ADMIN_ID, "admin", f"admin@{portal}.example.com"))
        for g in range(groups):
            group_id = 5001 + g
            title = DEPARTMENTS[g % len(DEPARTMENTS)] + ("" if g < len(DEPARTMENTS) else f" {g}")
            data.groups.append({"id": group_id, "title": title, "description": f"{title} team"})
            data.memberships[group_id] = []
        data.add_users(users)
        return data

    def counts(self) -> dict[str, int]:
        """What the portal holds, for the sandbox's `state()`."""
        return {
            "users": len(self.users),
            "groups": len(self.groups),
            "courses": len(self.courses),
            "enrollments": len(self.enrollments),
        }

    def new_id(self) -> int:
        self._next += 1
        return self._next

    def _insert(self, table: dict[int, dict], **fields: Any) -> int:
        """Store a new record in `table` under a new id (its "id" too); returns the id."""
        record_id = self.new_id()
        table[record_id] = {"id": record_id, **fields}
        return record_id

    def _user(self, user_id: int, user_type: str, email: str) -> dict:
        first, last = self._rng.choice(FIRST), self._rng.choice(LAST)
        return {
            "id": user_id,
            "first_name": first,
            "last_name": last,
            "email": email,
            "username": "",
            "user_type": user_type,
            "enabled": True,
            "locale": "en",
            "created_at": iso(ANCHOR - timedelta(days=user_id % 700)),
        }

    # ------------------------------------------------------------------ mutators

    def add_users(self, n: int) -> list[dict]:
        """Append `n` learners; some e-mails are mixed-case (matched case-insensitively)."""
        start = max((u["id"] for u in self.users if u["id"] > 10_000), default=10_000) + 1
        added = []
        for user_id in range(start, start + n):
            email = f"learner{user_id}@example.com"
            if user_id % 7 == 0:
                email = email.capitalize().replace("@example", "@Example")
            user = self._user(user_id, "learner", email)
            self.users.append(user)
            added.append(user)
            group_ids = [g["id"] for g in self.groups]
            if group_ids:
                self.join(group_ids[user_id % len(group_ids)], user_id)
                if user_id % 3 == 0 and len(group_ids) > 1:
                    self.join(group_ids[(user_id + 1) % len(group_ids)], user_id)
        return added

    def join(self, group_id: int, user_id: int) -> None:
        """A user joins a group: LearnUpon enrolls them on every course linked to it."""
        self.memberships[group_id].append(user_id)
        user = next(u for u in self.users if u["id"] == user_id)
        for link in self.group_courses.values():
            if link["group_id"] == group_id:
                self.enroll(user, self.courses[link["course_id"]], link["re_enroll_completed"])

    def link(self, group: dict, course: dict, re_enroll_completed: bool) -> int:
        """Link a course to a group (LearnUpon API, "Group Courses"): every member is enrolled
        on it, and every later joiner (`join`)."""
        link_id = self._insert(
            self.group_courses,
            group_id=group["id"],
            group_title=group["title"],
            **_course_ref(course),
            re_enroll_completed=re_enroll_completed,
        )
        by_id = {u["id"]: u for u in self.users}
        for user_id in self.memberships.get(group["id"], []):
            if user_id in by_id:
                self.enroll(by_id[user_id], course, re_enroll_completed)
        return link_id

    def enroll(self, user: dict, course: dict, re_enroll_completed: bool = False) -> int | None:
        """Enroll a user on a course; None when already enrolled (a completed enrollment is
        renewed only with `re_enroll_completed`)."""
        current = next(
            (
                e
                for e in self.enrollments.values()
                if e["user_id"] == user["id"] and e["course_id"] == course["id"]
            ),
            None,
        )
        if current is not None:
            if not (re_enroll_completed and current["status"] in COMPLETE):
                return None
            del self.enrollments[current["id"]]
        return self._insert(
            self.enrollments,
            user_id=user["id"],
            email=user["email"],
            **_course_ref(course),
            status="not_started",
            date_enrolled=iso(ANCHOR),
            date_completed=None,
        )

    def remove_users(self, ids: list[int]) -> None:
        """Delete users from the portal (and from their groups)."""
        gone = set(ids)
        self.users = [u for u in self.users if u["id"] not in gone]
        for members in self.memberships.values():
            members[:] = [m for m in members if m not in gone]

    def user_by_email(self, email: str) -> dict | None:
        email = email.lower()
        return next((u for u in self.users if u["email"].lower() == email), None)


def _course_ref(course: dict) -> dict[str, Any]:
    """How a link or an enrollment names its course (LearnUpon repeats the name)."""
    return {"course_id": course["id"], "course_name": course["name"]}
