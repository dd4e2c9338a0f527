"""The audit trail in words: `{{ entry|audit_sentence }}` reads "turned tags synchronization
off, changed the client ID", "set the integration up", "asked for a content sync" (the words:
`core.audit_words`); `{{ entry|audit_run_id }}` is the run an entry started (linked on the
page)."""

from __future__ import annotations

import re

from django import template

from integrations.core.audit_words import audit_sentence

register = template.Library()
register.filter("audit_sentence", audit_sentence)
RUN = re.compile(r"\brun #?(\d+)\b")


@register.filter
def audit_run_id(entry) -> int | None:
    match = RUN.search(entry.detail or "")
    return int(match.group(1)) if match else None
