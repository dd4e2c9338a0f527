"""Stored run and status messages in an admin's words. A message may name what only the people who
run the server act on: a setting ("past RUN_MAX_WAIT"), an HTTP status ("(503)"). On a console
page the setting reads as what it limits and the status goes; the message as stored (what the
logs and the API say, so the IT team can search for it) stays one click away, behind "Details for
your IT team".

- `{{ text|in_words }}`: the words, and the disclosure when anything was reworded (HTML).
- `{{ text|words_only }}`: the words alone (for an attribute such as a title).

Builtins of the templates (settings TEMPLATES), like `moment`.
"""

from __future__ import annotations

import re

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

register = template.Library()

SETTING = re.compile(r"\(?\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b\)?")
# "(503)", "(HTTP 429)", "HTTP 401", "status 500": an error status read as a word is dropped
# (4xx and 5xx only: "(250) courses" is a number). The spaces before it go with it; the
# look-behind keeps the match linear on long runs of spaces.
STATUS = re.compile(
    r"(?<!\s)\s*\((?:HTTP |status )?[45]\d\d\)|(?<!\s)\s*\b(?:HTTP|status) [45]\d\d\b"
    r"|^\s*\((?:HTTP |status )?[45]\d\d\)|^\s*\b(?:HTTP|status) [45]\d\d\b"
)
# The settings a stored message may name: this site's own (an upstream's code such as
# "INVALID_TOKEN", or Django's own names, are quoted as they came).
OWN_SETTING_PREFIXES = (
    "SYNC_", "UDEMY_", "PLATFORM_", "RUN_", "UPSTREAM_", "REPORT_", "STATS_", "XAPI_",
    "LEARNUPON_", "COURSEBASE_", "TRUSTED_PROXY_",
)  # fmt: skip

# What a setting limits, as it reads in a sentence ("past <words>").
SETTING_WORDS = {
    "RUN_MAX_WAIT": _("the longest a run may wait"),
    "RUN_TIME_SLICE": _("a run's share of a worker"),
    "SYNC_ARCHIVE_MAX_SHARE": _("the share of the catalog a sync may archive on its own"),
    "SYNC_PUBLISH_MAX_SHARE": _("the share of new items a sync may publish on its own"),
    "UDEMY_ALLOWED_API_HOSTS": _("the Udemy addresses this site may call"),
    "PLATFORM_ALLOWED_HOSTS": _("the learning platform addresses this site may call"),
    "UPSTREAM_MAX_BODY_MB": _("the largest answer this site reads"),
    "UDEMY_MAX_PAGE_MB": _("the largest page this site reads"),
    "UPSTREAM_RESPONSE_DEADLINE": _("the longest this site waits for an answer"),
    "UPSTREAM_MAX_SHARED_PAUSE": _("the longest pause shared between runs"),
    "UDEMY_MAX_CATALOG_PAGES": _("the most pages a catalog may have"),
    "UDEMY_MAX_REPORT_PAGES": _("the most pages a report may have"),
    "REPORT_EXPORT_MAX_WAIT": _("the longest this site waits for an export"),
    "REPORT_MAX_DOWNLOAD_MB": _("the largest report this site downloads"),
    "REPORT_MAX_CSV_MB": _("the largest report this site reads"),
    "STATS_PENDING_MAX_ROWS": _("the most statistics kept for courses not synced yet"),
}


# "Udemy answered 503": what the status means for the admin.
ANSWERED = re.compile(r"\banswered ([45]\d\d)\b")
ANSWER_WORDS = {
    "401": _("refused the credentials"),
    "403": _("refused access"),
    "404": _("found nothing at that address"),
    "429": _("asked to slow down"),
}


def _answer(match: re.Match) -> str:
    code = match.group(1)
    if code in ANSWER_WORDS:
        return str(ANSWER_WORDS[code])
    return gettext("failed on its side") if code.startswith("5") else gettext("refused the request")


def _reworded(text: str) -> str:
    def setting(match: re.Match) -> str:
        token = match.group(0)
        name = token.strip("()")
        own = name.startswith(OWN_SETTING_PREFIXES) and hasattr(settings, name)
        if name not in SETTING_WORDS and not own:
            return token  # an upstream's code ("INVALID_TOKEN") is quoted as it came
        words = str(SETTING_WORDS.get(name, gettext("a setting of this site")))
        return f"({words})" if token.startswith("(") and token.endswith(")") else words

    return SETTING.sub(setting, STATUS.sub("", ANSWERED.sub(_answer, text)))


@register.filter
def words_only(text: object) -> str:
    return _reworded(str(text or ""))


@register.filter
def in_words(text: object) -> SafeString | str:
    text = str(text or "")
    words = _reworded(text)
    if words == text:
        return text
    return format_html(
        '{}<details class="it-details small mt-1"><summary>{}</summary><code>{}</code></details>',
        words,
        gettext("Details for your IT team"),
        text,
    )


@register.filter
def language_name(code: object) -> str:
    """A course language's name in the reader's language ("pt-BR" → "Brazilian Portuguese",
    "portugais brésilien"); the code itself when Django does not know it."""
    from django.utils.translation import get_language_info

    text = str(code or "")
    for candidate in (text.lower(), text.lower().split("-")[0]):
        try:
            return str(get_language_info(candidate)["name_translated"])
        except KeyError:
            continue
    return text
