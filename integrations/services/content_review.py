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
- held items: publish these N (confirmed by their number) or discard them (hidden while Udemy
  lists them, archived once it no longer does; an admin may still publish them).

Only a complete scan decides: a scan that stops half-way leaves its new items held (an upstream
failing mid-list is the kind of answer the guard is for) and earlier decisions pending, and its
run says so. No decision is taken while a content sync runs (its scan may change what is
pending).

Every decision is audited and reversible like any archival (an archived course that Udemy lists
again comes back).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import ngettext_lazy

from catalog.models import Course
from integrations.core.audit import audit_record
from integrations.models import AlertState, AuditEntry, Integration, SyncRun

from .run_warnings import put_warning


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
    put_warning(run, warning, run.warnings)


def held_publish_or_keep(*, run: SyncRun) -> int:
    """At the end of a complete scan: publish the held items of the integration, or keep them
    held for an admin (`held_since`, a warning on the run) when they are a flood. The first
    complete scan of an integration publishes everything (it *is* the catalog). Returns the
    number published. An incomplete scan never calls this: its new items stay held."""
    integration = run.integration
    waiting = Course.objects.filter(integration=integration, status=Course.Status.HELD)
    count = waiting.count()
    if not count:
        return 0
    published = Course.objects.filter(integration=integration, status=Course.Status.ACTIVE).count()
    if _had_a_complete_scan(run) and count > publish_limit(published=published):
        waiting.filter(held_since__isnull=True).update(held_since=timezone.now())
        _warn_flood(run, count=count, published=published)
        return 0
    return _publish(waiting)


def keep_flood_warning(*, run: SyncRun) -> None:
    """A scan that decides nothing: a flood held earlier still waits, and its run says so."""
    held = courses_held(integration=run.integration).count()
    if held:
        published = Course.objects.filter(
            integration=run.integration, status=Course.Status.ACTIVE
        ).count()
        _warn_flood(run, count=held, published=published)


def _warn_flood(run: SyncRun, *, count: int, published: int) -> None:
    share = settings.SYNC_PUBLISH_MAX_SHARE
    run_warn(
        run=run,
        code="new_held",
        count=count,
        message=(
            f"{count} new items appeared at once, more than {share:.0%} of the {published} "
            "published: they are held, not shown to learners, until an admin reviews them "
            "(publish them or discard them)."
        ),
    )


def _had_a_complete_scan(run: SyncRun) -> bool:
    """Whether an earlier content run of the integration read its lists to the end (it made an
    archival decision on a complete scan)."""
    return (
        SyncRun.objects.filter(
            integration_id=run.integration_id,
            kind=SyncRun.Kind.CONTENT,
            archival_decision__in=("applied", "held"),
        )
        .exclude(pk=run.pk)
        .exists()
    )


def publish_limit(*, published: int) -> int:
    """How many held items a scan publishes on its own, for a catalog of `published` items."""
    share = math.floor(settings.SYNC_PUBLISH_MAX_SHARE * published)
    return max(share, settings.SYNC_PUBLISH_MIN_HELD)


def _publish(held: QuerySet) -> int:
    return held.update(
        status=Course.Status.ACTIVE, archived_at=None, held_since=None, updated_at=timezone.now()
    )


# ------------------------------------------------------------------ what is pending


def courses_missing(*, integration: Integration) -> QuerySet:
    return Course.missing_for(integration.pk)


def courses_held(*, integration: Integration) -> QuerySet:
    return Course.held_for(integration.pk)


def courses_discarded(*, integration: Integration) -> QuerySet:
    return Course.discarded_for(integration.pk)


# ------------------------------------------------------------------ the admin's decisions


class ReviewWhileSyncing(RuntimeError):
    """A content sync of the integration is running: its scan may change what is pending."""

    def __init__(self) -> None:
        super().__init__(
            "A content sync is running: decide once it has ended (it may change what is pending)."
        )


def _not_syncing(integration: Integration) -> None:
    busy = SyncRun.objects.filter(
        integration=integration, kind=SyncRun.Kind.CONTENT, status__in=SyncRun.BUSY
    )
    if busy.exists():
        raise ReviewWhileSyncing


def _settled(integration: Integration) -> None:
    """Nothing left to review: the next review that becomes pending is alerted again."""
    if not (
        courses_missing(integration=integration).exists()
        or courses_held(integration=integration).exists()
    ):
        AlertState.objects.filter(integration=integration, topic=AlertState.Topic.REVIEW).update(
            state="clear", changed_at=timezone.now()
        )


def _confirmed(queryset: QuerySet, *, count: int, what: str) -> list[int]:
    ids = list(queryset.select_for_update().values_list("id", flat=True))
    if count != len(ids):
        raise ReviewCountMismatch(confirmed=count, pending=len(ids), what=what)
    return ids


def _audit(integration: Integration, actor, action: str, detail: str) -> None:
    audit_record(AuditEntry, integration=integration, actor=actor, action=action, detail=detail)


def missing_archive(*, integration: Integration, actor, count: int) -> int:
    """Archive the `count` courses no longer on Udemy (the number the admin confirmed)."""
    _not_syncing(integration)
    with transaction.atomic():
        ids = _confirmed(courses_missing(integration=integration), count=count, what="courses")
        now = timezone.now()
        Course.objects.filter(pk__in=ids).update(
            status=Course.Status.ARCHIVED, archived_at=now, updated_at=now, missing_since=None
        )
        _audit(integration, actor, "archive_missing", f"{len(ids)} course(s) archived")
    _settled(integration)
    return len(ids)


def missing_keep(*, integration: Integration, actor, count: int | None = None) -> int:
    """Keep the courses no longer on Udemy, until the next complete scan decides again
    (`count`, when given, must be the pending number)."""
    _not_syncing(integration)
    with transaction.atomic():
        missing = courses_missing(integration=integration)
        if count is not None:
            ids = _confirmed(missing, count=count, what="courses")
            missing = Course.objects.filter(pk__in=ids)
        kept = missing.update(missing_since=None)
        _audit(integration, actor, "keep_missing", f"{kept} course(s) kept until the next scan")
    _settled(integration)
    return kept


def held_publish(*, integration: Integration, actor, count: int) -> int:
    """Publish the `count` held items (the number the admin confirmed)."""
    held = courses_held(integration=integration)
    return _publish_confirmed(
        integration, actor, held, count, what="new items", action="publish_held"
    )


def discarded_publish(*, integration: Integration, actor, count: int) -> int:
    """Publish the `count` items an admin discarded earlier (a change of mind)."""
    discarded = courses_discarded(integration=integration)
    return _publish_confirmed(
        integration, actor, discarded, count, what="discarded items", action="publish_discarded"
    )


def _publish_confirmed(
    integration: Integration, actor, pending: QuerySet, count: int, *, what: str, action: str
) -> int:
    _not_syncing(integration)
    with transaction.atomic():
        ids = _confirmed(pending, count=count, what=what)
        published = _publish(Course.objects.filter(pk__in=ids))
        _audit(integration, actor, action, f"{published} {what[:-1]}(s) published")
    _settled(integration)
    return published


def held_discard(*, integration: Integration, actor, count: int) -> int:
    """Discard the `count` held items: they stay hidden while Udemy lists them (a later scan
    does not bring them back) and are archived once it no longer does."""
    _not_syncing(integration)
    with transaction.atomic():
        ids = _confirmed(courses_held(integration=integration), count=count, what="new items")
        discarded = Course.objects.filter(pk__in=ids).update(
            status=Course.Status.DISCARDED, held_since=None, updated_at=timezone.now()
        )
        _audit(integration, actor, "discard_held", f"{discarded} new item(s) discarded")
    _settled(integration)
    return discarded


# The review page's decisions: action -> (service, confirmed by a count?, message done: a
# plural in the reader's language, formatted with `% {"n": count}`).
REVIEW_ACTIONS = {
    "archive_missing": (
        missing_archive,
        True,
        ngettext_lazy("%(n)s course archived.", "%(n)s courses archived.", "n"),
    ),
    "keep_missing": (
        missing_keep,
        True,
        ngettext_lazy(
            "%(n)s course kept until the next sync.", "%(n)s courses kept until the next sync.", "n"
        ),
    ),
    "publish_held": (
        held_publish,
        True,
        ngettext_lazy(
            "%(n)s new item published to learners.", "%(n)s new items published to learners.", "n"
        ),
    ),
    "discard_held": (
        held_discard,
        True,
        ngettext_lazy("%(n)s new item discarded.", "%(n)s new items discarded.", "n"),
    ),
    "publish_discarded": (
        discarded_publish,
        True,
        ngettext_lazy(
            "%(n)s discarded item published to learners.",
            "%(n)s discarded items published to learners.",
            "n",
        ),
    ),
}
