"""Catalog changes a content sync does not make on its own, and the admin's decision on them.

A scan stores new (and restored) items as *held* (`Course.Status.HELD`: not shown to learners,
not pushed) and decides when it ends (`held_publish_or_keep`): it publishes them, unless they are
more than SYNC_PUBLISH_MAX_SHARE of the published catalog at once (at least
SYNC_PUBLISH_MIN_HELD). A flood of new ids (an upstream answering another organization's list,
a broken id scheme) is then held like a mass archival, instead of published and counted as the
catalog that the next scan's archival share is measured against.

The archival's own hold (`content_sync.archive_missing`) marks the absent courses
`missing_since`. Both end the run with a warning ("Succeeded with warning"), show on the
integration's health, send one alert e-mail, and wait for an admin on the review page or the API:

- absent courses: archive these N (confirmed by their number) or keep them until the next scan;
- held items: publish these N (confirmed by their number) or discard them (archived: a later
  scan that lists them again holds them again).

Every decision is audited and reversible like any archival (an archived course that Udemy lists
again comes back).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.core.audit import audit_record
from integrations.models import AuditEntry, Integration, SyncRun
from lmsbridge.catalog.models import Course

REVIEW_WARNINGS = ("cleanup_pending", "new_held")


class ReviewCountMismatch(ValueError):
    """The admin confirmed another number than the one pending: nothing is changed."""

    def __init__(self, *, confirmed: int, pending: int, what: str) -> None:
        super().__init__(
            f"You confirmed {confirmed} but {pending} {what} are pending now: nothing was "
            "changed. Review the list again and confirm its number."
        )
        self.confirmed, self.pending = confirmed, pending


def run_warn(*, run: SyncRun, code: str, message: str, count: int | None = None) -> None:
    """Add a warning to the run (saved at once; one per code, the latest wins)."""
    warning = {"code": code, "message": message[:500]}
    if count is not None:
        warning["count"] = int(count)
    run.warnings = [w for w in run.warnings if w.get("code") != code] + [warning]
    SyncRun.objects.filter(pk=run.pk).update(warnings=run.warnings)


def held_publish_or_keep(*, run: SyncRun) -> int:
    """At the end of a scan: publish the held items of the integration, or keep them held (with
    a warning on the run) when they are a flood. Returns the number published."""
    integration = run.integration
    held = courses_held(integration=integration)
    count = held.count()
    if not count:
        return 0
    published = Course.objects.filter(integration=integration, status=Course.Status.ACTIVE).count()
    limit = publish_limit(published=published)
    if published and count > limit:
        share = settings.SYNC_PUBLISH_MAX_SHARE
        run_warn(
            run=run,
            code="new_held",
            count=count,
            message=(
                f"{count} new courses appeared at once, more than {share:.0%} of the "
                f"{published} published: they are held, not shown to learners, until an "
                "admin reviews them (publish them or discard them)."
            ),
        )
        return 0
    return _publish(held)


def publish_limit(*, published: int) -> int:
    """How many held items a scan publishes on its own, for a catalog of `published` items."""
    share = math.floor(settings.SYNC_PUBLISH_MAX_SHARE * published)
    return max(share, settings.SYNC_PUBLISH_MIN_HELD)


def _publish(held: QuerySet) -> int:
    return held.update(status=Course.Status.ACTIVE, archived_at=None, updated_at=timezone.now())


# ------------------------------------------------------------------ what is pending


def courses_missing(*, integration: Integration) -> QuerySet:
    return Course.missing_for(integration.pk)


def courses_held(*, integration: Integration) -> QuerySet:
    return Course.held_for(integration.pk)


# ------------------------------------------------------------------ the admin's decisions


def _confirmed(queryset: QuerySet, *, count: int, what: str) -> list[int]:
    ids = list(queryset.select_for_update().values_list("id", flat=True))
    if count != len(ids):
        raise ReviewCountMismatch(confirmed=count, pending=len(ids), what=what)
    return ids


def _audit(integration: Integration, actor, action: str, detail: str) -> None:
    audit_record(AuditEntry, integration=integration, actor=actor, action=action, detail=detail)


def missing_archive(*, integration: Integration, actor, count: int) -> int:
    """Archive the `count` courses no longer on Udemy (the number the admin confirmed)."""
    with transaction.atomic():
        ids = _confirmed(courses_missing(integration=integration), count=count, what="courses")
        now = timezone.now()
        Course.objects.filter(pk__in=ids).update(
            status=Course.Status.ARCHIVED, archived_at=now, updated_at=now, missing_since=None
        )
        _audit(integration, actor, "archive_missing", f"{len(ids)} course(s) archived")
    return len(ids)


def missing_keep(*, integration: Integration, actor) -> int:
    """Keep the courses no longer on Udemy, until the next complete scan decides again."""
    with transaction.atomic():
        kept = courses_missing(integration=integration).update(missing_since=None)
        _audit(integration, actor, "keep_missing", f"{kept} course(s) kept until the next scan")
    return kept


def held_publish(*, integration: Integration, actor, count: int) -> int:
    """Publish the `count` held items (the number the admin confirmed)."""
    with transaction.atomic():
        ids = _confirmed(courses_held(integration=integration), count=count, what="new items")
        published = _publish(Course.objects.filter(pk__in=ids))
        _audit(integration, actor, "publish_held", f"{published} new item(s) published")
    return published


def held_discard(*, integration: Integration, actor, count: int) -> int:
    """Archive the `count` held items unseen by learners (a later scan listing them again
    holds them again)."""
    with transaction.atomic():
        ids = _confirmed(courses_held(integration=integration), count=count, what="new items")
        now = timezone.now()
        discarded = Course.objects.filter(pk__in=ids).update(
            status=Course.Status.ARCHIVED, archived_at=now, updated_at=now
        )
        _audit(integration, actor, "discard_held", f"{discarded} new item(s) discarded")
    return discarded


# The review page's decisions: action -> (service, confirmed by a count?, message done).
REVIEW_ACTIONS = {
    "archive_missing": (missing_archive, True, "{n} course(s) archived."),
    "keep_missing": (missing_keep, False, "{n} course(s) kept until the next sync."),
    "publish_held": (held_publish, True, "{n} new item(s) published to learners."),
    "discard_held": (held_discard, True, "{n} new item(s) discarded."),
}
