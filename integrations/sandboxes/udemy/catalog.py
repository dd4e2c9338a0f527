"""Course and learning-path generation of the Udemy sandbox (a mixin of `UdemyData`)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from ..exchange import iso
from .images import course_image_path, item_image_path, path_image_path
from .vocabulary import (
    FIRST_NAMES,
    HOSTILE_SNIPPETS,
    IMAGE_SIZES,
    LAST_NAMES,
    LEARNING_OUTCOMES,
    LEVELS,
    LOCALES,
    LOCALIZED_TITLES,
    PATH_ITEM_TYPES,
    PREFIXES,
    SECOND_CATEGORIES,
    SUFFIXES,
    TOPICS,
    VIDEO_LABELS,
    slugify,
)


class Catalog:
    """Builds courses and learning paths from the organization's seeded `_rng`."""

    organization_name: str
    anchor: datetime
    courses: list[dict]
    activity: list[dict]
    _rng: random.Random
    _now: datetime
    _used_ids: set[int]
    _used_slugs: set[str]
    _revisions: dict[int, tuple[str, str, int]]

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
            "last_update_date": self._day(3440).isoformat(),  # up to ~9 years back
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
        # Udemy's shape (one URL per size, a digest in the file name); the pictures are the
        # sandbox's own (`images`): paths here, absolute URLs once served.
        digest = f"{self._rng.getrandbits(32):08x}"
        return {size: course_image_path(course_id, size, digest) for size in IMAGE_SIZES}

    def _promo_videos(self) -> list[dict]:
        stamp = self._day(3074).strftime("%Y-%m-%d_%H-%M-%S")
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

    def _day(self, max_days_back: int) -> date:
        """A day at most `max_days_back` days before the data's now (a fixed span, so that the
        random draws, hence the data, do not depend on the day it is generated)."""
        return self._now.date() - timedelta(days=self._rng.randint(0, max_days_back))

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
        created = self.anchor - timedelta(days=rng.randint(30, 1500), seconds=rng.randint(0, 86399))
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
        if index % 2 == 0:
            return path_image_path(path_id)
        return {size: path_image_path(path_id, size) for size in IMAGE_SIZES[-4:]}

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
            "thumbnail": None if link else item_image_path(item_id),
            "resource_url": None if link else f"/api-2.0/{kind}s/{item_id}/",
        }
