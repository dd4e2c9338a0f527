"""The admin's own last change before a failure: the advice of an Error (console banner, alert
e-mail) never blames Udemy alone when a settings change made since the last successful run came
before the failures began."""

from __future__ import annotations

from django.utils.translation import gettext

from catalog.templatetags.moments import moment
from integrations.core.audit_words import audit_sentence
from integrations.models import AuditEntry, Integration, SyncRun

SUCCEEDED = (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
FAILED = (SyncRun.Status.FAILED, SyncRun.Status.TIMED_OUT)


def change_before_failure(*, integration: Integration) -> AuditEntry | None:
    """The latest audited settings change made after the last successful run and before the
    first failed run that followed it; None without a success, a failure since, or a change
    between them."""
    runs = SyncRun.objects.filter(integration=integration)
    last_ok = (
        runs.filter(status__in=SUCCEEDED, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last_ok is None:
        return None
    first_failure = (
        runs.filter(status__in=FAILED, created_at__gt=last_ok)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
        .first()
    )
    if first_failure is None:
        return None
    return (
        AuditEntry.objects.filter(
            integration=integration,
            action="update",
            created_at__gt=last_ok,
            created_at__lt=first_failure,
        )
        .exclude(fields=[])
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def change_words(entry: AuditEntry) -> str:
    """ "This started after alice changed the pages fetched at once on 2026-12-07 10:12 CET:
    check that change first." (in the reader's language and time zone)."""
    who = entry.actor.get_username() if entry.actor else gettext("someone")
    when = moment(entry.created_at)  # in the reader's zone, the zone named
    return gettext("This started after %(who)s %(what)s on %(when)s: check that change first.") % {
        "who": who,
        "what": audit_sentence(entry),
        "when": when,
    }


def change_advice(*, integration: Integration) -> str:
    """The sentence naming the admin's change the failures followed, or ""."""
    entry = change_before_failure(integration=integration)
    return change_words(entry) if entry is not None else ""
