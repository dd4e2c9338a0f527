"""Alerts by e-mail to a group's admins (and `ADMINS`) when an integration changes state: it
entered Error, a sync failed / timed out / ended partial, its data went stale, it recovered.

One e-mail per change of state: `AlertState` keeps, per integration and topic, the last state
the admins were told about; an event that does not change it (the second failure in a row, a
retry) writes nothing. E-mails are rendered when the state changes and stored (`AlertEmail`, an
outbox); a task sends them. The signal receivers only write rows and queue that task, so that
a mail server that is down never changes a sync's result: an e-mail that could not be sent is
logged and tried again with a growing delay (by the task's retries and by the hourly check).

No alert carries a secret: the client secret is never put in a template's context, and every
text is passed through `redact` (the secret in any encoding, a URL's `user:password@`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import (
    AlertEmail,
    AlertState,
    Integration,
    PlatformConnection,
    PlatformRun,
    SyncRun,
)
from integrations.services.alerts.outbox import alert_email_write, platform_alert_email_write

logger = logging.getLogger(__name__)

Topic = AlertState.Topic
RUN_TOPICS = (Topic.CONTENT, Topic.STATS)
BAD_RUN = (SyncRun.Status.FAILED, SyncRun.Status.TIMED_OUT, SyncRun.Status.PARTIAL)

# ------------------------------------------------------------------ state changes


def _state_change(
    *,
    topic: str,
    state: str,
    now: datetime,
    integration: Integration | None = None,
    connection: PlatformConnection | None = None,
) -> str | None:
    """Record `state` for the topic of an integration (or a platform connection); the previous
    state ("" when none) if it changed, None if it is the state already recorded."""
    owner = {"integration": integration} if integration is not None else {"connection": connection}
    with transaction.atomic():
        row = AlertState.objects.select_for_update().filter(topic=topic, **owner).first()
        if row is None:
            try:
                with transaction.atomic():
                    AlertState.objects.create(topic=topic, state=state, changed_at=now, **owner)
            except IntegrityError:  # recorded meanwhile by another process
                return None
            return ""
        if row.state == state:
            return None
        previous = row.state
        row.state, row.changed_at = state, now
        row.save(update_fields=["state", "changed_at"])
        return previous


def _changed_since(*, integration: Integration, topic: str, state: str, since: datetime) -> bool:
    """Whether the topic went to `state` at or after `since` (an e-mail already told it)."""
    return AlertState.objects.filter(
        integration=integration, topic=topic, state=state, changed_at__gte=since
    ).exists()


def alerts_on_owner_status_changed(
    *, integration: Integration, new: str, now: datetime | None = None
) -> AlertEmail | None:
    """The integration entered Error, or came back to Active from it."""
    now = now or timezone.now()
    if new == Integration.Status.ERROR:
        previous = _state_change(
            integration=integration, topic=Topic.STATUS, state="error", now=now
        )
        return (
            None if previous is None else alert_email_write(integration, Topic.STATUS, "error", now)
        )
    if new == Integration.Status.ACTIVE:
        previous = _state_change(
            integration=integration, topic=Topic.STATUS, state="active", now=now
        )
        if previous == "error":
            # The all-clear covers the syncs that failed while it was in Error.
            AlertState.objects.filter(
                integration=integration, topic__in=RUN_TOPICS, state="failing"
            ).update(state="ok", changed_at=now)
            return alert_email_write(integration, Topic.STATUS, "recovered", now)
    return None


def alerts_on_run_ended(*, run: SyncRun, now: datetime | None = None) -> AlertEmail | None:
    """A sync ended: the first bad outcome after good ones (failed, timed out, partial) and the
    first success after bad ones are alerted; an outcome like the previous one is not. A run
    whose failure (or success) also moved the integration into (or out of) Error is told by
    that e-mail alone, and so are the syncs that fail while the integration is in Error."""
    now = now or timezone.now()
    integration = run.integration
    if integration.status == Integration.Status.INACTIVE:
        return None
    if run.status in BAD_RUN:
        state = "failing"
    elif run.status == SyncRun.Status.SUCCEEDED:
        state = "ok"
    else:
        return None
    previous = _state_change(integration=integration, topic=run.kind, state=state, now=now)
    if previous is None or (state == "ok" and previous != "failing"):
        return None
    if state == "failing" and _in_error_and_told(integration):
        return None  # the Error e-mail is the state the admins know; its all-clear will follow
    status_state = "error" if state == "failing" else "active"
    if _changed_since(
        integration=integration, topic=Topic.STATUS, state=status_state, since=run.created_at
    ):
        return None
    return alert_email_write(
        integration, run.kind, "failed" if state == "failing" else "recovered", now, run
    )


REVIEW_CODES = frozenset({"cleanup_pending", "new_held"})


def alerts_on_review(*, run: SyncRun, now: datetime | None = None) -> AlertEmail | None:
    """A content sync held catalog changes for an admin's decision (courses no longer on Udemy,
    a flood of new ones): told once, when the review becomes pending; a later sync that holds
    them again writes nothing until a sync ends with nothing to review."""
    if run.kind != SyncRun.Kind.CONTENT or run.status not in SyncRun.FINISHED:
        return None
    integration = run.integration
    pending = any(w.get("code") in REVIEW_CODES for w in run.warnings)
    if not pending and run.status != SyncRun.Status.SUCCEEDED:
        return None  # an incomplete scan decided nothing: the review state stands
    now = now or timezone.now()
    state = "pending" if pending else "clear"
    previous = _state_change(integration=integration, topic=Topic.REVIEW, state=state, now=now)
    if previous is None or not pending:
        return None
    return alert_email_write(integration, Topic.REVIEW, "review", now, run)


def _in_error_and_told(integration: Integration) -> bool:
    return (
        integration.status == Integration.Status.ERROR
        and AlertState.objects.filter(
            integration=integration, topic=Topic.STATUS, state="error"
        ).exists()
    )


def alerts_check_stale(*, now: datetime | None = None) -> list[AlertEmail]:
    """Every hour: an active integration (or one in Error) with no successful content sync, or
    statistics sync, for `SYNC_STALE_AFTER_HOURS` is stale; fresh again once one succeeds."""
    now = now or timezone.now()
    emails = []
    running = Integration.objects.filter(status__in=Integration.running_statuses())
    for integration in running.select_related("group"):
        for kind, topic in (
            (SyncRun.Kind.CONTENT, Topic.STALE_CONTENT),
            (SyncRun.Kind.STATS, Topic.STALE_STATS),
        ):
            stale = integration.is_stale(kind, now)
            previous = _state_change(
                integration=integration, topic=topic, state="stale" if stale else "fresh", now=now
            )
            if stale and previous is not None:
                email = alert_email_write(integration, topic, "stale", now)
            elif not stale and previous == "stale":
                email = alert_email_write(integration, topic, "recovered", now)
            else:
                email = None
            if email is not None:
                emails.append(email)
    return emails


BUDGET_SPENT = "PlatformBudgetSpent"  # the category of the error a spent week leaves


def alerts_on_platform_run_ended(
    *, run: PlatformRun, now: datetime | None = None
) -> AlertEmail | None:
    """A learning-platform run ended: the first one stopped by a spent weekly API budget is
    alerted (the connector waits for the next week, it does not retry), and so is the first
    run that gets through again. Dry runs send no request: they tell nothing."""
    now = now or timezone.now()
    if run.dry_run:
        return None
    if run.errors.filter(category=BUDGET_SPENT).exists():
        state = "spent"
    elif run.status == PlatformRun.Status.SUCCEEDED:
        state = "ok"
    else:
        return None
    connection = run.connection
    previous = _state_change(
        connection=connection, topic=Topic.PLATFORM_BUDGET, state=state, now=now
    )
    if previous is None or (state == "ok" and previous != "spent"):
        return None
    return platform_alert_email_write(
        connection, Topic.PLATFORM_BUDGET, "spent" if state == "spent" else "recovered", now, run
    )


# ------------------------------------------------------------------ signal receivers


def alerts_run_ended_receiver(sender: type, run: SyncRun | PlatformRun, **kwargs: Any) -> None:
    """`run_ended` (after commit): never raises, never sends mail itself."""
    try:
        if isinstance(run, PlatformRun):
            run = PlatformRun.objects.select_related("connection__group").get(pk=run.pk)
            alerts_on_platform_run_ended(run=run)
            return
        run = SyncRun.objects.select_related("integration__group").get(pk=run.pk)
        alerts_on_run_ended(run=run)
        alerts_on_review(run=run)
    except Exception:
        logger.exception("alerts: run %s could not be alerted", getattr(run, "pk", None))


def alerts_owner_status_receiver(
    sender: type, owner: Integration, old: str, new: str, **kwargs: Any
) -> None:
    """`owner_status_changed` (after commit): never raises, never sends mail itself."""
    try:
        integration = Integration.objects.select_related("group").get(pk=owner.pk)
        alerts_on_owner_status_changed(integration=integration, new=new)
    except Exception:
        logger.exception("alerts: integration %s could not be alerted", getattr(owner, "pk", None))
