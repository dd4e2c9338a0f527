"""The audit trail in words, in the reader's language: "turned tags synchronization off,
changed the client ID", "set the integration up" (the console's trail, and the advice that names
an admin's change)."""

from __future__ import annotations

import re

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

SENTENCES = {
    "activate": _("set the integration up (credentials verified, integration active)"),
    "activation_failed": _(
        "tried to set the integration up: the credentials were refused, nothing was stored"
    ),
    "credentials_refused": _("tried to save credentials that were refused: nothing was stored"),
    "deactivate": _("deactivated the integration"),
    "check_passed": _(
        "checked the stored credentials again: Udemy accepted them, the integration is active"
    ),
    "check_refused": _("checked the stored credentials again: refused, nothing was changed"),
    "sync_content": _("asked for a content sync"),
    "sync_stats": _("asked for a statistics sync"),
    "test": _("tested the connection"),
    "auto_enroll_on": _("turned auto-enrollment on"),
    "auto_enroll_off": _("turned auto-enrollment off"),
    "auto_enroll_confirm": _("confirmed a new number of enrollments for auto-enrollment"),
    "unlink_courses": _("unlinked the courses from the group"),
    "schedule": _("changed the daily sync times"),
    "archive_missing": _("archived the courses no longer on Udemy"),
    "keep_missing": _("kept the courses no longer on Udemy until the next sync"),
    "publish_held": _("published the new items held for review"),
    "publish_discarded": _("published items discarded earlier"),
    "discard_held": _("discarded the new items held for review"),
    "xapi_issue": _("generated xAPI credentials for Udemy Business's real-time statistics"),
    "xapi_rotate": _("replaced the xAPI credentials (the old ones stopped working)"),
    "xapi_revoke": _("revoked the xAPI credentials"),
}
# How a setting reads in a sentence, in the reader's language (the integration's and the
# platform connection's settings). A field not listed reads as its model's verbose name.
NAMES = {
    "client_id": _("the client ID"),
    "client_secret": _("the client secret"),
    "organization_id": _("the organization ID"),
    "organization_name": _("the organization name"),
    "api_base_url": _("the API address"),
    "page_concurrency": _("the pages fetched at once"),
    "sync_tags": _("tags synchronization"),
    "sync_learning_paths": _("learning paths synchronization"),
    "kind": _("the platform"),
    "learnupon_portal": _("portal subdomain"),
    "learnupon_username": _("API username"),
    "learnupon_password": _("API password"),
    "learnupon_owner_id": _("course owner id"),
    "target_group_id": _("target group id"),
    "learnupon_cataloged": _("list pushed courses in the portal catalog"),
    "auto_enroll": _("link courses to the target group (auto-enrollment)"),
    "re_enroll_completed": _("re-enroll members who completed a course"),
    "auto_enroll_consent": _("confirmed enrollments"),
    "coursebase_domain": _("custom domain"),
    "coursebase_token": _("API token"),
    "udemy_stats_from_report": _("read Udemy statistics from Coursebase"),
    "base_url": _("API base URL override"),
    "push_after_sync": _("push after each Udemy sync"),
}


def _label(entry, name: str) -> str:
    if name in NAMES:
        return str(NAMES[name])
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


def audit_sentence(entry) -> str:
    """What the entry's actor did, in words (secrets are named, never shown)."""
    action = entry.action
    if action != "update":
        return str(SENTENCES.get(action, action.replace("_", " ")))
    toggles = entry.toggles or {}
    parts = [
        (gettext("turned %(setting)s on") if toggles[name] else gettext("turned %(setting)s off"))
        % {"setting": _label(entry, name)}
        for name in entry.fields
        if name in toggles
    ]
    changed = [_label(entry, name) for name in entry.fields if name not in toggles]
    if changed:
        parts.append(gettext("changed %(settings)s") % {"settings": ", ".join(changed)})
    return ", ".join(parts) if parts else gettext("saved the settings (nothing changed)")
