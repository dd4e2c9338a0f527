"""How runs read in the console: `{{ error.category|error_label }}` turns an error's category
(a word such as `auth`, or the class name of the upstream error: `UdemyUnavailable`) into the
words an admin reads ("Credentials refused", "Udemy unavailable"); the code stays in the API."""

from __future__ import annotations

import re

from django import template

register = template.Library()

LABELS = {
    "auth": "Credentials refused",
    "config": "Configuration",
    "timeout": "Time limit reached",
    "database": "Database error",
    "internal": "Internal error",
    "worker_lost": "Worker lost",
    "closed": "Closed by an admin",
    "wait": "Waiting on the platform",
    "invalid_item": "Bad item",
    "bad_row": "Bad report row",
    "bad_report": "Bad report",
    "no_email": "No e-mail address",
    "group_gone": "Group gone",
    "course_refused": "Course refused",
    "completion_refused": "Completion refused",
    "loop": "Pages loop",
}
# Class names of the connectors' errors: (suffix, words); the prefix names the upstream.
SUFFIXES = (
    ("BudgetSpent", "weekly API budget used up"),
    ("AuthError", "refused the credentials"),
    ("ConfigError", "configuration"),
    ("Unavailable", "unavailable"),
    ("BadResponse", "bad response"),
    ("NotFound", "not found"),
    ("Rejected", "refused the request"),
    ("RetryLater", "rate limited"),
    ("Error", "error"),
)
UPSTREAMS = {"Udemy": "Udemy", "Platform": "The platform", "LearnUpon": "LearnUpon",
             "Coursebase": "Coursebase"}  # fmt: skip


@register.filter
def error_label(category: str) -> str:
    """An error category in words; an unknown one is shown de-snake-cased."""
    category = str(category or "")
    if category in LABELS:
        return LABELS[category]
    for suffix, words in SUFFIXES:
        prefix = category.removesuffix(suffix)
        if prefix != category and prefix in UPSTREAMS:
            return f"{UPSTREAMS[prefix]} {words}"
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", category).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else "Error"
