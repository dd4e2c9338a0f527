"""The audit trail in words: `{{ entry|audit_sentence }}` reads "turned tags synchronization
off, changed the client ID", "set the integration up", "asked for a content sync";
`{{ entry|audit_run_id }}` is the run an entry started (linked on the page)."""

from __future__ import annotations

import re

from django import template
from django.core.exceptions import FieldDoesNotExist

register = template.Library()

SENTENCES = {
    "activate": "set the integration up (credentials verified, integration active)",
    "activation_failed": "tried to set the integration up: the credentials were refused, "
    "nothing was stored",
    "credentials_refused": "tried to save credentials that were refused: nothing was stored",
    "deactivate": "deactivated the integration",
    "sync_content": "asked for a content sync",
    "sync_stats": "asked for a statistics sync",
    "test": "tested the connection",
    "auto_enroll_on": "turned auto-enrollment on",
    "auto_enroll_off": "turned auto-enrollment off",
    "auto_enroll_confirm": "confirmed a new number of enrollments for auto-enrollment",
    "unlink_courses": "unlinked the courses from the group",
}
NAMES = {  # where a field's label does not read well in a sentence
    "client_id": "the client ID",
    "client_secret": "the client secret",
    "organization_id": "the organization ID",
    "organization_name": "the organization name",
    "api_base_url": "the API address",
    "page_concurrency": "the pages fetched at once",
}
RUN = re.compile(r"\brun #?(\d+)\b")


def _label(entry, name: str) -> str:
    if name in NAMES:
        return NAMES[name]
    owner = next(
        (f.related_model for f in entry._meta.fields if f.is_relation and f.name != "actor"), None
    )
    try:
        label = str(owner._meta.get_field(name).verbose_name)
    except (AttributeError, FieldDoesNotExist):
        label = name.replace("_", " ")
    label = re.sub(r"^(enable|enabled)\s+", "", label, flags=re.IGNORECASE)
    if label[1:2].isupper():  # an acronym ("API base URL override") keeps its case
        return label
    return label[:1].lower() + label[1:]


@register.filter
def audit_sentence(entry) -> str:
    """What the entry's actor did, in words (secrets are named, never shown)."""
    action = entry.action
    if action != "update":
        return SENTENCES.get(action, action.replace("_", " "))
    toggles = entry.toggles or {}
    parts = [
        f"turned {_label(entry, name)} {'on' if toggles[name] else 'off'}"
        for name in entry.fields
        if name in toggles
    ]
    changed = [_label(entry, name) for name in entry.fields if name not in toggles]
    if changed:
        parts.append("changed " + ", ".join(changed))
    return ", ".join(parts) if parts else "saved the settings (nothing changed)"


@register.filter
def audit_run_id(entry) -> int | None:
    match = RUN.search(entry.detail or "")
    return int(match.group(1)) if match else None
