"""The words of the Udemy sandbox's generated organization, and its small text helpers."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

# Each mutation (update, progress, enrolment...) moves the data's clock on by this much.
TICK = timedelta(hours=1)


def anchor_for(today: date | None = None) -> datetime:
    """The generated data's "now": 07:00 UTC the day before `today` (default: the current UTC
    date). Every generated date is an offset from it, so the same seed gives the same data on
    the same day and the demo's activity always ends yesterday, inside the dashboards' 90-day
    window. A day before today leaves room for 17 mutations (ticks of an hour) before a
    generated date could lie in the future, whatever the hour of the day."""
    day = today if today is not None else datetime.now(UTC).date()
    return datetime.combine(day - timedelta(days=1), time(7, 0), tzinfo=UTC)


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


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "course"
