"""A loopback fake of the Udemy Business API, with deterministic data, for the demo and the tests.

`SandboxData.generate(seed=...)` builds a realistic organization (courses, learning paths,
user-course-activity rows) from `random.Random(seed)` only: same seed, same data, on any machine.
`UdemySandbox(data).start()` serves it over real HTTP (a `ThreadingHTTPServer` in a daemon thread)
the way Udemy does: HTTP Basic auth, `/api-2.0/organizations/{id}/...` endpoints, page/page_size
pagination with absolute `next`/`previous` links, `400 {"detail": "Invalid page."}` past the end.
Faults (429 with Retry-After, 5xx, HTML bodies, truncated JSON, hanging responses) are queued with
`fail(...)` so retry and timeout behaviour is exercised over real sockets, which mocks cannot do.

Control endpoints for other processes (the demo, browser tests), outside the API paths:

- ``GET  /_sandbox/state``    → ``{"courses", "learning_paths", "activity", "requests", ...}``
- ``POST /_sandbox/scenario`` with JSON ``{"latency": 0.05, "fail": [{...fail kwargs...}],
  "add_courses": 5, "update_courses": [ids] | n, "retire_courses": [ids] | n,
  "advance_progress": 3, "reset_faults": true, "reset_log": true}``

They are **not authenticated**: the sandbox is a development tool that listens on loopback, and
control requests from a non-loopback client are refused (403) even if it is bound elsewhere.
Never expose it on a public interface.

`request_log` records every API request (not the control endpoints), so request counts match the
client's `request_count`.
"""

from __future__ import annotations

import hmac
import json
import logging
import random
import re
import socket
import threading
import unicodedata
from base64 import b64decode
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .client import UdemyCredentials, is_loopback_host

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 12  # Udemy's documented default
MAX_PAGE_SIZE = 100  # Udemy's documented maximum; larger requests are clamped
ANCHOR = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)  # "now" of the generated data: no wall clock

# --------------------------------------------------------------------------- vocabulary

TOPICS: list[tuple[str, str]] = [
    ("Python", "Development"),
    ("JavaScript", "Development"),
    ("React", "Development"),
    ("Docker and Kubernetes", "IT & Software"),
    ("AWS Cloud Practitioner", "IT & Software"),
    ("SQL", "Development"),
    ("Machine Learning", "Development"),
    ("Excel", "Office Productivity"),
    ("Power BI", "Office Productivity"),
    ("Project Management", "Business"),
    ("Agile and Scrum", "Business"),
    ("Public Speaking", "Personal Development"),
    ("Leadership", "Leadership & Management"),
    ("Negotiation", "Business"),
    ("Cybersecurity", "IT & Software"),
    ("Linux Administration", "IT & Software"),
    ("Data Analysis with Pandas", "Development"),
    ("Digital Marketing", "Marketing"),
    ("UX Design", "Design"),
    ("Figma", "Design"),
    ("Go Programming", "Development"),
    ("Rust", "Development"),
    ("Time Management", "Personal Development"),
    ("Financial Modeling", "Finance & Accounting"),
    ("Business Writing", "Communication"),
    ("Git and GitHub", "Development"),
    ("Terraform", "IT & Software"),
    ("ChatGPT and Prompt Engineering", "Development"),
    ("Customer Success", "Business"),
    ("Emotional Intelligence", "Leadership & Management"),
]
SECOND_CATEGORIES = ["Technology Team", "Sales Team", "Engineering Team", "HR Team", "Onboarding"]
PREFIXES = ["The Complete", "Mastering", "Introduction to", "Practical", "Hands-On", "Advanced", ""]
SUFFIXES = [
    "",
    ": From Zero to Hero",
    " for Beginners",
    " Bootcamp",
    " in 30 Days",
    ": Build 10 Real Projects",
    " Masterclass",
    " - Certification Prep",
]
LOCALIZED_TITLES = {
    "fr_FR": "Apprendre {topic} : le cours complet",
    "de_DE": "{topic} für Einsteiger",
    "ja_JP": "{topic}入門講座 - ゼロから学ぶ",
    "pt_BR": "{topic} do Zero ao Avançado",
    "es_ES": "Curso completo de {topic}",
}
LOCALES = ["en_US"] * 12 + ["fr_FR", "de_DE", "ja_JP", "pt_BR", "es_ES", "en_GB"]
LEVELS = ["Beginner Level", "Intermediate Level", "Expert Level", "All Levels"]
FIRST_NAMES = [
    "Jane", "John", "Amina", "Wei", "Sofia", "Lucas", "Chloé", "Mateo", "Yuki", "Olivia",
    "Noah", "Fatima", "Liam", "Emma", "Ravi", "Ines", "Hugo", "Mia", "Kenji", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Doe", "Smith", "Martin", "Nguyen", "Garcia", "Müller", "Rossi", "Tanaka", "Dubois",
    "Silva", "Kowalski", "Brown", "Haddad", "Okafor", "Lefebvre", "Schmidt", "Costa", "Kim",
]  # fmt: skip
DOMAINS = ["example.com", "acme.example.com", "example.org"]
IMAGE_SIZES = [
    "size_48x27", "size_50x50", "size_75x75", "size_96x54", "size_100x100", "size_125_H",
    "size_200_H", "size_240x135", "size_304x171", "size_480x270", "size_750x422",
]  # fmt: skip
VIDEO_LABELS = ["360", "480", "720", "1080"]
# ~2% of descriptions carry one: the sync must sanitize HTML before storing or rendering it.
HOSTILE_SNIPPETS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">Download the slides</a>',
    '<iframe src="https://evil.example.com/"></iframe>',
]
LEARNING_OUTCOMES = [
    "build a real project from scratch",
    "understand the core concepts and vocabulary",
    "apply best practices used by professionals",
    "prepare for the certification exam",
    "automate repetitive tasks",
    "communicate results to stakeholders",
    "debug common problems quickly",
]
PATH_ITEM_TYPES = ["course"] * 6 + ["lecture", "assessment", "lab", "link"]

# Activity row states; the first learner gets one of each so every case is always present.
NOT_STARTED, IN_PROGRESS, COMPLETED, COMPLETED_NO_START = (
    "not_started",
    "in_progress",
    "completed",
    "completed_no_start",
)
FIRST_LEARNER_STATES = [COMPLETED, IN_PROGRESS, NOT_STARTED, COMPLETED_NO_START, IN_PROGRESS]
ANONYMIZED = "Anonymized User"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "course"


# --------------------------------------------------------------------------- data


class SandboxData:
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
        seed: int = 1,
        courses: int = 300,
        paths: int = 12,
        learners: int = 60,
        activity_per_learner: int = 5,
        organization_name: str = "demo",
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
            if _state_of(row) == IN_PROGRESS and "@" in row["user_email"]:
                _complete(row, now)
                moved.append((row["user_email"].lower(), row["course_id"]))
        return moved

    # ------------------------------------------------------------------ courses

    def _tick(self) -> datetime:
        self._now += timedelta(days=1)
        return self._now

    def _new_id(self, low: int, high: int) -> int:
        while True:
            candidate = self._rng.randint(low, high)
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def _new_course(self, index: int) -> dict:
        rng = self._rng
        course_id = self._new_id(10_000, 5_999_999)
        topic, category = rng.choice(TOPICS)
        locale = rng.choice(LOCALES)
        title = self._title(topic, locale)
        practice = index % 20 == 7
        minutes = rng.randint(20, 90) if practice else rng.randint(25, 2400)
        lectures = rng.randint(1, 6) if practice else rng.randint(5, 320)
        course = {
            "_class": "course",
            "id": course_id,
            "title": title,
            "headline": f"Learn {topic} step by step with exercises and real-world examples.",
            "description": self._description(topic, hostile=index % 50 == 1),
            "url": f"https://{self.organization_name}.udemy.com/course/{self._slug(title)}/",
            "estimated_content_length": minutes,
            "categories": self._categories(category),
            "instructors": [self._person() for _ in range(rng.choice([1, 1, 1, 2, 3]))],
            "locale": {"_class": "locale", "locale": locale},
            "images": self._images(course_id),
            "promo_video_url": [] if practice else self._promo_videos(),
            "is_practice_test_course": practice,
            "last_update_date": self._day(date(2016, 1, 1)).isoformat(),
            "level": rng.choice(LEVELS),
            "num_lectures": lectures,
            "num_videos": 0 if practice else max(1, lectures - rng.randint(0, 5)),
            "requirements": {"list": [f"No prior {topic} experience is needed."]},
            "what_you_will_learn": {"list": rng.sample(LEARNING_OUTCOMES, 3)},
        }
        if index % 20 == 3:  # ~5%: locale missing or null, as seen in real payloads
            if index % 40 == 3:
                del course["locale"]
            else:
                course["locale"] = None
        return course

    def _title(self, topic: str, locale: str) -> str:
        if locale in LOCALIZED_TITLES:
            return LOCALIZED_TITLES[locale].format(topic=topic)
        prefix, suffix = self._rng.choice(PREFIXES), self._rng.choice(SUFFIXES)
        return f"{prefix} {topic}{suffix}".strip()

    def _slug(self, title: str) -> str:
        base = slug = slugify(title)
        n = 2
        while slug in self._used_slugs:
            slug, n = f"{base}-{n}", n + 1
        self._used_slugs.add(slug)
        return slug

    def _description(self, topic: str, *, hostile: bool) -> str:
        rng = self._rng
        lead = f"This course teaches <strong>{topic}</strong>" if rng.random() < 0.5 else topic
        items = "".join(f"<li>{o.capitalize()}</li>" for o in rng.sample(LEARNING_OUTCOMES, 3))
        html = (
            f"<p>{lead} through short videos, quizzes and hands-on exercises.</p>"
            f"<p>By the end of the course you will be able to:</p><ul>{items}</ul>"
        )
        if hostile:
            html += f"<p>Bonus material {rng.choice(HOSTILE_SNIPPETS)}</p>"
        return html

    def _categories(self, category: str) -> list[str]:
        if self._rng.random() < 0.3:
            return [category, self._rng.choice(SECOND_CATEGORIES)]
        return [category]

    def _person(self) -> str:
        return f"{self._rng.choice(FIRST_NAMES)} {self._rng.choice(LAST_NAMES)}"

    def _images(self, course_id: int) -> dict[str, str]:
        digest = f"{self._rng.getrandbits(32):08x}"
        return {
            size: f"https://img-c.udemycdn.com/course/{size[5:]}/{course_id}_{digest}.jpg"
            for size in IMAGE_SIZES
        }

    def _promo_videos(self) -> list[dict]:
        stamp = self._day(date(2017, 1, 1)).strftime("%Y-%m-%d_%H-%M-%S")
        token = f"{self._rng.getrandbits(64):016x}"
        labels = VIDEO_LABELS[: self._rng.randint(0, len(VIDEO_LABELS))]
        return [
            {
                "type": "video/mp4",
                "label": label,
                "file": f"https://mp4-c.udemycdn.com/{stamp}-{token}/WebHD_{label}p.mp4"
                f"?Expires=1767225600&Signature={token}&Key-Pair-Id=K3MG148K9RIRF4",
            }
            for label in reversed(labels)
        ]

    def _day(self, start: date) -> date:
        span = (self._now.date() - start).days
        return start + timedelta(days=self._rng.randint(0, span))

    def _moment(self, after: datetime, max_days: int) -> datetime:
        seconds = self._rng.randint(3600, max(3601, max_days * 86400))
        return min(after + timedelta(seconds=seconds), self._now)

    def _revise(self, course: dict) -> None:
        title, description, n = self._revisions.get(
            course["id"], (course["title"], course["description"], 0)
        )
        n += 1
        self._revisions[course["id"]] = (title, description, n)
        course["title"] = f"{title} ({self._now.year} Update {n})"
        course["description"] = f"{description}<p>Updated: revision {n} adds new lectures.</p>"
        course["last_update_date"] = self._now.date().isoformat()
        for row in self.activity:
            if row["course_id"] == course["id"]:
                row["course_title"] = course["title"]

    # ------------------------------------------------------------------ learning paths

    def _new_path(self, index: int) -> dict:
        rng = self._rng
        # Some path ids equal course ids on purpose: the two id spaces are independent upstream.
        course_index = 5 + 4 * index
        if index % 3 == 0 and course_index < len(self.courses):
            path_id = self.courses[course_index]["id"]
        else:
            path_id = self._new_id(1_000, 999_999)
        topic, category = rng.choice(TOPICS)
        created = ANCHOR - timedelta(days=rng.randint(30, 1500), seconds=rng.randint(0, 86399))
        sections = [self._section(path_id, s) for s in range(rng.randint(1, 4))]
        items = [item for section in sections for item in section["items"]]
        return {
            "_class": "learning_path",
            "id": path_id,
            "title": f"{topic} Learning Path" if index % 2 else f"Become a {topic} Professional",
            "description": f"<p>A curated path to master <strong>{topic}</strong>.</p>",
            "url": f"https://{self.organization_name}.udemy.com/learning-paths/{path_id}/",
            "created": iso(created),
            "last_modified": iso(self._moment(created, 400)),
            "estimated_content_length": sum(int(item["duration"] or 0) for item in items),
            "number_of_content_items": len(items),
            "is_pro_path": index % 4 == 3,
            "categories": [category],
            "locales": self._path_locales(index),
            "editors": [self._editor(index, e) for e in range(rng.randint(1, 2))],
            "sections": sections,
            "thumbnail": self._path_thumbnail(path_id, index),
        }

    def _path_locales(self, index: int) -> list:
        # The element shape is unconfirmed: mostly locale objects, sometimes bare strings.
        if index % 5 == 4:
            return ["en_US"]
        return [{"_class": "locale", "locale": self._rng.choice(LOCALES)}]

    def _editor(self, index: int, n: int) -> dict:
        first, last = self._rng.choice(FIRST_NAMES), self._rng.choice(LAST_NAMES)
        email = f"{slugify(first)}.{slugify(last)}@example.com"
        key = "email_address" if (index + n) % 2 == 0 else "email"  # both spellings seen
        return {"display_name": f"{first} {last}", key: email, "lms_user_id": f"lms-{index}-{n}"}

    def _path_thumbnail(self, path_id: int, index: int) -> str | dict:
        base = f"https://img-c.udemycdn.com/learning-path/{path_id}"
        if index % 2 == 0:
            return f"{base}/thumbnail.jpg"
        return {size: f"{base}/{size[5:]}.jpg" for size in IMAGE_SIZES[-4:]}

    def _section(self, path_id: int, order: int) -> dict:
        count = self._rng.randint(2, 5)
        return {
            "id": self._new_id(1_000_000, 9_999_999),
            "title": f"Part {order + 1}",
            "description": "<p>Work through these items in order.</p>" if order % 2 else "",
            "order": order,
            "items": [self._path_item(path_id, i) for i in range(count)],
        }

    def _path_item(self, path_id: int, order: int) -> dict:
        kind = self._rng.choice(PATH_ITEM_TYPES)
        if kind == "course" and self.courses:
            course = self._rng.choice(self.courses)
            return {
                "id": course["id"],
                "type": "course",
                "title": course["title"],
                "url": course["url"],
                "order": order,
                "duration": course["estimated_content_length"],
                "thumbnail": course["images"]["size_240x135"],
                "resource_url": f"/api-2.0/courses/{course['id']}/",
            }
        item_id = self._new_id(10_000_000, 99_999_999)
        link = kind == "link"
        return {
            "id": item_id,
            "type": kind,
            "title": f"{kind.capitalize()}: {self._rng.choice(LEARNING_OUTCOMES)}",
            "url": "https://docs.example.com/guide" if link else f"/learning-paths/{path_id}/",
            "order": order,
            "duration": None if link else self._rng.randint(3, 90),
            "thumbnail": None if link else f"https://img-c.udemycdn.com/item/{item_id}.jpg",
            "resource_url": None if link else f"/api-2.0/{kind}s/{item_id}/",
        }

    # ------------------------------------------------------------------ activity

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
        enrolled = ANCHOR - timedelta(days=rng.randint(20, 700), seconds=rng.randint(0, 86399))
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
        _complete(row, self._moment(started, 90))

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


def _state_of(row: dict) -> str:
    if row["course_completion_date"]:
        return COMPLETED if row["course_start_date"] else COMPLETED_NO_START
    return IN_PROGRESS if row["course_start_date"] else NOT_STARTED


def _complete(row: dict, when: datetime) -> None:
    row["completion_ratio"] = 100
    row["num_video_consumed_minutes"] = int(row["course_duration"])
    row["course_completion_date"] = iso(when)
    row["course_first_completion_date"] = row["course_first_completion_date"] or iso(when)
    row["course_last_accessed_date"] = row["last_activity_date"] = iso(when)


# --------------------------------------------------------------------------- faults


FAULT_BODIES = ("json", "html", "truncated", "hang")
FAULT_DETAILS = {
    401: "Invalid username/password.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    429: "Request was throttled.",
    500: "A server error occurred.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable.",
    504: "Gateway timeout.",
}


@dataclass
class Fault:
    """One queued misbehaviour; each matching API request consumes one of `times`."""

    path_contains: str = ""
    status: int = 503
    times: int = 1
    retry_after: float | None = None
    body: str = "json"
    hang_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.body not in FAULT_BODIES:
            raise ValueError(f"body must be one of {FAULT_BODIES}, not {self.body!r}")
        if int(self.times) < 1:
            raise ValueError("times must be at least 1")
        self.status, self.times = int(self.status), int(self.times)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] | None = None
    delay: float = 0.0


def json_reply(status: int, payload: Any, **kwargs: Any) -> Reply:
    return Reply(status, json.dumps(payload).encode(), **kwargs)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def html_page(status: int) -> bytes:
    phrase = _phrase(status)
    return (
        "<!DOCTYPE html>\n<html><head><title>"
        f"{status} {phrase}</title></head><body><h1>{phrase}</h1>"
        "<p>The server is temporarily unable to service your request due to maintenance "
        "downtime or capacity problems. Please try again later.</p></body></html>"
    ).encode()


# --------------------------------------------------------------------------- server

API_RE = re.compile(
    r"^/api-2\.0/organizations/(?P<org>[^/]+)/"
    r"(?P<endpoint>courses/list|learning-paths/list|analytics/user-course-activity)/?$"
)
ENDPOINT_DATA = {
    "courses/list": "courses",
    "learning-paths/list": "learning_paths",
    "analytics/user-course-activity": "activity",
}


class UdemySandbox:
    """A fake Udemy Business API on a loopback port; see the module docstring."""

    def __init__(
        self,
        data: SandboxData | None = None,
        *,
        client_id: str = "demo-client",
        client_secret: str = "demo-secret",  # noqa: S107 - the sandbox's public demo value
        organization_name: str = "demo",
        organization_id: str = "4242",
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.data = data or SandboxData.generate(organization_name=organization_name)
        self.client_id = client_id
        self.client_secret = client_secret
        self.organization_name = organization_name
        self.organization_id = str(organization_id)
        self.latency = latency
        self.host = host
        self.port = port
        # Base of absolute next/previous links; tests point it elsewhere to fake a hostile page.
        self.link_base_url: str | None = None
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._log: list[dict] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> UdemySandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler)
        server.sandbox = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"udemy-sandbox-{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping on latency or a hang
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_until(
        self, stop: threading.Event, on_ready: Callable[[dict[str, Any]], None]
    ) -> None:
        """Serve in the foreground: start, report the state to `on_ready`, and stop cleanly
        once `stop` is set (a SIGTERM handler sets it) or on Ctrl-C."""
        self.start()
        try:
            on_ready(self.state())
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> UdemySandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api-2.0/organizations/{self.organization_id}/"

    def credentials(self) -> UdemyCredentials:
        return UdemyCredentials(
            client_id=self.client_id,
            client_secret=self.client_secret,
            organization_name=self.organization_name,
            organization_id=self.organization_id,
            api_base_url=self.api_base_url,
        )

    # ------------------------------------------------------------------ faults and log

    def fail(
        self,
        *,
        path_contains: str = "",
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        body: str = "json",
        hang_seconds: float = 5.0,
    ) -> None:
        """Queue a fault: the next `times` API requests whose path+query contain
        `path_contains` get `status` with `body` ("json", "html", "truncated": the real or error
        JSON cut in half, "hang": the normal answer after `hang_seconds`)."""
        fault = Fault(path_contains, status, times, retry_after, body, hang_seconds)
        with self._lock:
            self._faults.append(fault)

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def request_log(self) -> list[dict]:
        """{"method", "path", "query" (raw string), "status"} of every API request, in order.

        The live list (appended under the lock): `request_log.clear()` resets it as expected."""
        return self._log

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "courses": len(self.data.courses),
                "learning_paths": len(self.data.learning_paths),
                "activity": len(self.data.activity),
                "requests": len(self._log),
                "faults": sum(f.times for f in self._faults),
                "latency": self.latency,
            }

    # ------------------------------------------------------------------ request handling

    def respond(self, method: str, target: str, headers: Any, body: bytes, client: str) -> Reply:
        """The reply to one HTTP request (pure apart from the log and the fault queue)."""
        path = urlsplit(target).path
        if path.startswith("/_sandbox/"):
            return self._control(method, path, body, client)
        if not path.startswith("/api-2.0/"):
            return json_reply(404, {"detail": "Not found."})
        reply = self._api(method, target, headers)
        with self._lock:
            self._log.append(
                {
                    "method": method,
                    "path": path,
                    "query": urlsplit(target).query,
                    "status": reply.status,
                }
            )
        return reply

    def wait(self, seconds: float) -> None:
        """Sleep that `stop()` interrupts, so a stopped sandbox never lingers."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _api(self, method: str, target: str, headers: Any) -> Reply:
        fault = self._take_fault(target)
        if fault is not None and fault.body != "hang":
            return self._fault_reply(fault, target, headers)
        reply = self._serve(method, target, headers)
        reply.delay = self.latency + (fault.hang_seconds if fault is not None else 0.0)
        return reply

    def _take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path_contains in target:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _fault_reply(self, fault: Fault, target: str, headers: Any) -> Reply:
        extra = {}
        if fault.retry_after is not None:
            extra["Retry-After"] = f"{fault.retry_after:g}"
        if fault.body == "html":
            return Reply(fault.status, html_page(fault.status), "text/html", extra, self.latency)
        if fault.status < 300 and fault.body == "truncated":
            body = self._serve("GET", target, headers).body
        elif fault.status < 300:  # valid JSON that is not a page envelope
            body = json.dumps({"detail": "OK"}).encode()
        else:
            detail = FAULT_DETAILS.get(fault.status, _phrase(fault.status))
            body = json.dumps({"detail": detail}).encode()
        if fault.body == "truncated":
            body = body[: max(1, len(body) // 2)]
        return Reply(fault.status, body, "application/json", extra, self.latency)

    def _serve(self, method: str, target: str, headers: Any) -> Reply:
        if method != "GET":
            return json_reply(405, {"detail": f'Method "{method}" not allowed.'})
        if not self._authorized(headers.get("Authorization", "")):
            www = {"WWW-Authenticate": 'Basic realm="api"'}
            return json_reply(401, {"detail": "Invalid username/password."}, headers=www)
        parts = urlsplit(target)
        match = API_RE.match(parts.path)
        if match is None or match["org"] != self.organization_id:
            return json_reply(404, {"detail": "Not found."})
        params = parse_qsl(parts.query, keep_blank_values=True)
        return self._page(parts.path, params, ENDPOINT_DATA[match["endpoint"]])

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = b64decode(token.strip(), validate=True)
        except ValueError:
            return False
        expected = f"{self.client_id}:{self.client_secret}".encode()
        return hmac.compare_digest(given, expected)

    def _page(self, path: str, params: list[tuple[str, str]], source: str) -> Reply:
        query = dict(params)
        size = _page_size(query.get("page_size"))
        try:
            number = int(query.get("page", "1"))
        except ValueError:
            number = 0
        with self._lock:
            items = _filtered(getattr(self.data, source), query)
            count = len(items)
            if number < 1 or (number > 1 and (number - 1) * size >= count):
                return json_reply(400, {"detail": "Invalid page."})
            payload = {
                "count": count,
                "next": self._link(path, params, number + 1) if number * size < count else None,
                "previous": self._link(path, params, number - 1) if number > 1 else None,
                "results": items[(number - 1) * size : number * size],
            }
            return json_reply(200, payload)

    def _link(self, path: str, params: list[tuple[str, str]], page: int) -> str:
        # Like Django REST framework: other params kept, sorted; page 1 drops the page param.
        kept = sorted((k, v) for k, v in params if k != "page")
        if page > 1:
            kept = sorted([*kept, ("page", str(page))])
        query = urlencode(kept)
        return f"{self.link_base_url or self.url}{path}" + (f"?{query}" if query else "")

    # ------------------------------------------------------------------ control endpoints

    def _control(self, method: str, path: str, body: bytes, client: str) -> Reply:
        if not is_loopback_host(client):
            return json_reply(403, {"detail": "The sandbox control API is loopback-only."})
        if path == "/_sandbox/state" and method == "GET":
            return json_reply(200, self.state())
        if path == "/_sandbox/scenario" and method == "POST":
            try:
                scenario = json.loads(body or b"{}")
                if not isinstance(scenario, dict):
                    raise ValueError("the scenario must be a JSON object")
                return json_reply(200, self.apply_scenario(scenario))
            except (ValueError, TypeError, KeyError) as exc:
                return json_reply(400, {"detail": f"Invalid scenario: {exc}"})
        return json_reply(404, {"detail": "Not found."})

    def apply_scenario(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Apply a control scenario (see the module docstring); returns what changed."""
        unknown = set(scenario) - SCENARIO_KEYS
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        result: dict[str, Any] = {"ok": True}
        with self._lock:
            if scenario.get("reset_faults"):
                self._faults.clear()
            if scenario.get("reset_log"):
                self._log.clear()
            if "latency" in scenario:
                self.latency = float(scenario["latency"])
            for kwargs in scenario.get("fail", []):
                self._faults.append(Fault(**kwargs))
            self._apply_data_changes(scenario, result)
        result["state"] = self.state()
        return result

    def _apply_data_changes(self, scenario: dict[str, Any], result: dict[str, Any]) -> None:
        data = self.data
        if scenario.get("add_courses"):
            result["added_courses"] = [c["id"] for c in data.add_courses(scenario["add_courses"])]
        if scenario.get("update_courses"):
            ids = self._ids(scenario["update_courses"])
            data.update_courses(ids)
            result["updated_courses"] = ids
        if scenario.get("retire_courses"):
            ids = self._ids(scenario["retire_courses"])
            data.retire_courses(ids)
            result["retired_courses"] = ids
        if scenario.get("advance_progress"):
            moved = data.advance_progress(int(scenario["advance_progress"]))
            result["advanced"] = [list(pair) for pair in moved]

    def _ids(self, value: int | list[int]) -> list[int]:
        """A list of ids, or an int n meaning the first n courses of the catalog."""
        if isinstance(value, int):
            return [c["id"] for c in self.data.courses[:value]]
        return [int(i) for i in value]


SCENARIO_KEYS = {
    "latency",
    "fail",
    "add_courses",
    "update_courses",
    "retire_courses",
    "advance_progress",
    "reset_faults",
    "reset_log",
}


def _page_size(raw: str | None) -> int:
    try:
        size = int(raw) if raw is not None else DEFAULT_PAGE_SIZE
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)


def _filtered(items: list[dict], query: dict[str, str]) -> list[dict]:
    """The documented report filters that are cheap to honour: course_id and user_email."""
    if "course_id" in query:
        items = [i for i in items if str(i.get("course_id")) == query["course_id"]]
    if "user_email" in query:
        email = query["user_email"].lower()
        items = [i for i in items if str(i.get("user_email", "")).lower() == email]
    return list(items)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: UdemySandbox

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        with self._connections_lock:
            self._connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut keep-alive connections: `shutdown()` only stops accepting new ones, and a stopped
        sandbox must not keep answering a client's pooled connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected here (hang faults): no traceback spam.
        logger.debug("sandbox connection from %s ended abruptly", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    # Headers and body leave in one segment: with the default unbuffered writes, Nagle plus the
    # client's delayed ACK add ~40 ms to every response, which would swamp latency figures.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its load balancer
    timeout = 120  # idle keep-alive connections end; their handler threads with them
    server: _Server
    server_version = "UdemySandbox/1.0"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sandbox = self.server.sandbox
        reply = sandbox.respond(method, self.path, self.headers, body, self.client_address[0])
        sandbox.wait(reply.delay)
        try:
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): nothing to answer

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in (reply.headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("sandbox %s %s", self.address_string(), format % args)
