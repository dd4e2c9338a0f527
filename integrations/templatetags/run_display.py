"""How runs read in the console: `{{ error.category|error_label }}` turns an error's category
(a word such as `auth`, or the class name of the upstream error: `UdemyUnavailable`) into the
words an admin reads ("Credentials refused", "Udemy unavailable"); the code stays in the API."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

register = template.Library()

LABELS = {
    "auth": _("Credentials refused"),
    "config": _("Configuration"),
    "timeout": _("Time limit reached"),
    "database": _("Database error"),
    "internal": _("Internal error"),
    "worker_lost": _("Worker lost"),
    "closed": _("Closed by an admin"),
    "wait": _("Waiting on the platform"),
    "invalid_item": _("Bad item"),
    "bad_row": _("Bad report row"),
    "bad_report": _("Bad report"),
    "no_email": _("No e-mail address"),
    "group_gone": _("Group gone"),
    "course_refused": _("Course refused"),
    "completion_refused": _("Completion refused"),
    "loop": _("Pages loop"),
}
# Class names of the connectors' errors: (suffix, words); the prefix names the upstream.
SUFFIXES = (
    ("BudgetSpent", _("%(upstream)s weekly API budget used up")),
    ("AuthError", _("%(upstream)s refused the credentials")),
    ("ConfigError", _("%(upstream)s configuration")),
    ("Unavailable", _("%(upstream)s unavailable")),
    ("BadResponse", _("%(upstream)s bad response")),
    ("NotFound", _("%(upstream)s not found")),
    ("Rejected", _("%(upstream)s refused the request")),
    ("RetryLater", _("%(upstream)s rate limited")),
    ("Error", _("%(upstream)s error")),
)
UPSTREAMS = {"Udemy": "Udemy", "Platform": _("The platform"), "LearnUpon": "LearnUpon",
             "Coursebase": "Coursebase"}  # fmt: skip


@register.filter
def error_label(category: str) -> str:
    """An error category in words; an unknown one is shown de-snake-cased."""
    category = str(category or "")
    if category in LABELS:
        return str(LABELS[category])
    for suffix, words in SUFFIXES:
        prefix = category.removesuffix(suffix)
        if prefix != category and prefix in UPSTREAMS:
            return str(words) % {"upstream": UPSTREAMS[prefix]}
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", category).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else gettext("Error")
