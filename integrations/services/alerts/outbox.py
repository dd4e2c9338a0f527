"""The alert e-mails: who receives them (the group's admins who did not turn them off, and
`ADMINS`), what they say (rendered from `templates/integrations/email/`, links from `SITE_URL`,
never a secret: see `redact`), and their sending from the outbox with retries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations.core.logs import redact as redact_text
from integrations.core.scrub import single_line, upstream_excerpt
from integrations.models import (
    AlertEmail,
    AlertOptOut,
    AlertState,
    Integration,
    PlatformConnection,
    PlatformRun,
    SyncRun,
)
from lmsbridge.catalog.models import Group, Membership

logger = logging.getLogger(__name__)

Topic = AlertState.Topic
SEND_TASK = "integrations.tasks.send_alerts"
FIRST_ERRORS = 5
MAX_ATTEMPTS = 30  # about a day of retries (the delay grows to an hour)
CLAIM_SECONDS = 600  # a sender's hold on an e-mail it is sending (a crashed sender lets go)
SUBJECT_CHARS = 200
REASON_CHARS = 500  # of a reason quoted in an e-mail (it may quote an upstream's message)
ERROR_CHARS = 300  # of each run error quoted

ADVICE = {
    Integration.ErrorKind.CREDENTIALS: (
        "Udemy refused the credentials. Check the client ID, the client secret and the "
        "organization ID on the integration page (an API key may have been rotated or revoked "
        "in Udemy Business), save them, then press “Sync content now”. The daily syncs go on "
        "meanwhile; the first one that succeeds brings the integration back to Active."
    ),
    Integration.ErrorKind.UNAVAILABLE: (
        "Udemy could not be reached or answered with server errors. Nothing needs to change on "
        "your side: the daily syncs go on and the first one that succeeds brings the "
        "integration back to Active. If it lasts, check Udemy's status and sync by hand later."
    ),
    Integration.ErrorKind.BAD_RESPONSE: (
        "Udemy's answers could not be read (truncated, empty or not JSON). The daily syncs go "
        "on; if it lasts, send the run's errors to Udemy support."
    ),
}
DEFAULT_ADVICE = (
    "Open the integration page and the sync history. The daily syncs go on; the first one that "
    "succeeds brings the integration back to Active."
)


# ------------------------------------------------------------------ what never leaves by e-mail


def redact(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """`text` without the secrets (verbatim, JSON-escaped, URL-quoted) and without the
    `user:password@` of any URL in it (the same rule as the log lines, `core.logs`)."""
    return redact_text(text, secrets=secrets)


def _quoted(text: str, limit: int) -> str:
    """A reason or error as an e-mail may quote it: it may carry an upstream's words (an error
    `detail` with line breaks and a sign-in link is phishing sent in our name), so one line,
    bounded, without links."""
    return upstream_excerpt(text or "", limit=limit, links=False)


def _quote_upstream_text(values: dict[str, Any]) -> dict[str, Any]:
    values = {**values, "reason": _quoted(values.get("reason", ""), REASON_CHARS)}
    if values.get("run"):
        errors = [
            {
                **error,
                "external_id": _quoted(error.get("external_id", ""), 100),
                "message": _quoted(error.get("message", ""), ERROR_CHARS),
            }
            for error in values["run"].get("errors", [])
        ]
        values["run"] = {**values["run"], "errors": errors}
    return values


def _subject(text: str) -> str:
    """One line, bounded: a line break in a header (a group's name) would fail every send."""
    return single_line(text, limit=SUBJECT_CHARS)


def _secrets_of(integration: Integration) -> tuple[str, ...]:
    try:
        return (integration.client_secret,)
    except Exception:  # a key that no longer decrypts must not stop an alert
        return ()


# ------------------------------------------------------------------ recipients and opt-out


def alerts_enabled(*, user: AbstractBaseUser, group: Group) -> bool:
    """Whether `user` receives the alerts of the group's integrations (on unless turned off)."""
    return not AlertOptOut.objects.filter(user=user, group=group).exists()


def alerts_set_enabled(*, user: AbstractBaseUser, group: Group, enabled: bool) -> None:
    """Turn the alerts of a group on or off for one admin."""
    if enabled:
        AlertOptOut.objects.filter(user=user, group=group).delete()
    else:
        AlertOptOut.objects.get_or_create(user=user, group=group)


def alert_recipients(*, group: Group) -> list[str]:
    """The group's admins who did not turn alerts off, and the site's `ADMINS`."""
    opted_out = AlertOptOut.objects.filter(group=group).values("user_id")
    admins = (
        Membership.objects.filter(group=group, role=Membership.Role.ADMIN, learner__is_active=True)
        .exclude(learner__user__in=opted_out)
        .values_list("learner__email", flat=True)
    )
    addresses = [a for a in admins if a] + [address for _, address in settings.ADMINS]
    return sorted({a.strip().lower(): a.strip() for a in addresses if a.strip()}.values())


# ------------------------------------------------------------------ rendering


def _link(name: str, **kwargs: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, kwargs=kwargs)


@dataclass(frozen=True)
class _Message:
    subject: str
    headline: str
    reason: str = ""
    advice: str = ""


def _message(integration: Integration, topic: str, state: str, run: SyncRun | None) -> _Message:
    group = integration.group.name
    kind_label = {
        Topic.CONTENT: "content",
        Topic.STATS: "statistics",
        Topic.STALE_CONTENT: "content",
        Topic.STALE_STATS: "statistics",
    }.get(topic, "")
    hours = f"{settings.SYNC_STALE_AFTER_HOURS:g}"
    if topic == Topic.STATUS and state == "error":
        return _Message(
            f"Udemy integration of {group} is in Error",
            f"The Udemy integration of {group} is in Error: "
            f"{integration.get_error_kind_display()}.",
            integration.status_message,
            ADVICE.get(integration.error_kind, DEFAULT_ADVICE),
        )
    if state == "failed" and run is not None:
        outcome = run.get_status_display().lower()
        return _Message(
            f"Udemy {kind_label} sync of {group}: {outcome}",
            f"The {kind_label} sync #{run.pk} of {group} ended {outcome}.",
            run.error_summary,
            "The next syncs are not affected: they run as scheduled. Open the run for its errors.",
        )
    if state == "review" and run is not None:
        return _Message(
            f"Udemy catalog of {group}: changes await your review",
            f"The content sync #{run.pk} of {group} held catalog changes for your decision.",
            " ".join(w.get("message", "") for w in run.warnings),
            "Open the integration's review page: archive or keep the courses no longer on "
            "Udemy, publish or discard the new ones. Nothing changes until you decide.",
        )
    if state == "stale":
        return _Message(
            f"Udemy {kind_label} of {group}: no successful sync for {hours} hours",
            f"No {kind_label} sync of {group} has succeeded for more than {hours} hours: "
            "the data shown to learners and admins may be out of date.",
            integration.status_message,
            "Open the sync history to see what the last runs did; the schedule keeps trying.",
        )
    what = {
        Topic.STATUS: "The Udemy integration is Active again",
        Topic.CONTENT: "Content syncs succeed again",
        Topic.STATS: "Statistics syncs succeed again",
    }.get(topic, f"The {kind_label} data is up to date again")
    return _Message(f"Udemy integration of {group}: recovered", f"{what} ({group}).")


def _latest_run(integration: Integration, topic: str) -> SyncRun | None:
    runs = SyncRun.objects.filter(integration=integration).exclude(status=SyncRun.Status.SKIPPED)
    if topic in (SyncRun.Kind.CONTENT, SyncRun.Kind.STATS):
        runs = runs.filter(kind=topic)
    return runs.order_by("-created_at", "-id").first()


def _context(
    integration: Integration, topic: str, state: str, run: SyncRun | None
) -> dict[str, Any]:
    secrets = _secrets_of(integration)
    message = _message(integration, topic, state, run)
    if run is None and state in ("error", "failed"):
        run = _latest_run(integration, topic)
    slug = integration.group.slug
    context: dict[str, Any] = {
        "headline": message.headline,
        "reason": redact(message.reason, secrets=secrets),
        "advice": message.advice,
        "state": state,
        "group_name": integration.group.name,
        "status": integration.get_status_display(),
        "integration_url": _link("integrations:provider", slug=slug, provider=integration.provider),
        "history_url": _link("integrations:history", slug=slug),
        "last_content_sync": integration.last_content_sync,
        "last_stats_sync": integration.last_stats_sync,
        "run": None,
    }
    if run is not None:
        errors = [
            {
                "category": error.category,
                "external_id": redact(error.external_id, secrets=secrets),
                "message": redact(error.message, secrets=secrets),
            }
            for error in run.errors.all()[:FIRST_ERRORS]
        ]
        context["run"] = {
            "id": run.pk,
            "kind": run.get_kind_display(),
            "status": run.status_label,
            "url": _link("integrations:run", slug=slug, run_id=run.pk),
            "finished_at": run.finished_at,
            "counts": [
                (label, getattr(run, field))
                for label, field in (
                    ("Fetched", "fetched"),
                    ("Created", "created"),
                    ("Updated", "updated"),
                    ("Unchanged", "unchanged"),
                    ("Failed items", "failed"),
                    ("Archived", "archived"),
                )
            ],
            "errors": errors,
            "error_count": run.errors.count(),
        }
    return context


def alert_email_write(
    integration: Integration, topic: str, state: str, now: datetime, run: SyncRun | None = None
) -> AlertEmail | None:
    """Render and store one alert e-mail and queue its sending; None when nobody receives it."""
    return _email_write(
        {"integration": integration},
        integration.group,
        topic,
        state,
        now,
        message=_message(integration, topic, state, run),
        context=lambda: _context(integration, topic, state, run),
        secrets=_secrets_of(integration),
    )


def platform_alert_email_write(
    connection: PlatformConnection, topic: str, state: str, now: datetime, run: PlatformRun
) -> AlertEmail | None:
    """The alert of a learning-platform connection (its weekly API budget): the same outbox,
    recipients and redaction as the integrations' alerts."""
    platform, group = connection.get_kind_display(), connection.group
    if state == "spent":
        message = _Message(
            f"{platform} connection of {group.name}: weekly API budget used up",
            f"{platform} stopped answering this week: its weekly API budget is nearly used up.",
            reason=run.error_summary,
            advice=(
                f"Nothing is lost: what was sent stays sent, and the daily runs go on from there "
                f"once {platform} renews the week (they stop again at once, without retrying, "
                f"until it does). To get through sooner, ask {platform} support for a larger "
                f"weekly limit, or turn off pushes you don't need."
            ),
        )
    else:
        message = _Message(
            f"{platform} connection of {group.name}: recovered",
            f"The weekly API budget renewed: runs of the {platform} connection get through again.",
        )
    secrets = tuple(
        value for value in (connection.learnupon_password, connection.coursebase_token) if value
    )
    slug = group.slug

    def context() -> dict[str, Any]:
        return {
            "headline": message.headline,
            "reason": message.reason,
            "advice": message.advice,
            "state": state,
            "group_name": group.name,
            "owner_label": f"{platform} connection",
            "history_label": "Runs",
            "status": connection.get_status_display(),
            "integration_url": _link("platforms:connection", slug=slug),
            "history_url": _link("platforms:runs", slug=slug),
            "run": {
                "id": run.pk,
                "kind": run.get_kind_display(),
                "status": run.status_label,
                "url": _link("platforms:run", slug=slug, run_id=run.pk),
                "finished_at": run.finished_at,
                "counts": [],
                "errors": [],
                "error_count": 0,
            },
        }

    return _email_write(
        {"connection": connection}, group, topic, state, now,
        message=message, context=context, secrets=secrets,
    )  # fmt: skip


def _email_write(
    owner: dict[str, Any],
    group: Group,
    topic: str,
    state: str,
    now: datetime,
    *,
    message: _Message,
    context: Callable[[], dict[str, Any]],
    secrets: tuple[str, ...],
) -> AlertEmail | None:
    recipients = alert_recipients(group=group)
    if not recipients:
        ((name, obj),) = owner.items()
        logger.info("alert %s/%s of %s %s: no recipient", topic, state, name, obj.pk)
        return None
    values = _quote_upstream_text(context())
    email = AlertEmail.objects.create(
        **owner,
        topic=topic,
        state=state,
        recipients=recipients,
        subject=_subject(redact(f"[LMS Bridge] {message.subject}", secrets=secrets)),
        text_body=redact(render_to_string("integrations/email/alert.txt", values), secrets=secrets),
        html_body=redact(
            render_to_string("integrations/email/alert.html", values), secrets=secrets
        ),
        next_attempt_at=now,
    )
    transaction.on_commit(_queue_sending)
    return email


# ------------------------------------------------------------------ sending


def _queue_sending() -> None:
    """Ask a worker to send the outbox now; if the broker is down, the hourly check will."""
    from celery import current_app

    try:
        current_app.send_task(SEND_TASK)
    except Exception:
        logger.warning("alerts: could not queue %s; the hourly check sends them", SEND_TASK)


def retry_delay(attempts: int) -> int:
    """Seconds before the next try of an e-mail that failed `attempts` times (1 min … 1 h)."""
    return min(3600, 60 * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class SendResult:
    sent: int
    failed: int
    retry_in: int  # seconds until the earliest failed e-mail is due again (0: none failed)


def alert_emails_send(*, now: datetime | None = None) -> SendResult:
    """Send the alert e-mails that are due. A failure is logged and the e-mail is tried again
    later (`retry_delay`); after `MAX_ATTEMPTS` it is kept unsent, its last error shown in the
    admin."""
    now = now or timezone.now()
    due = AlertEmail.objects.filter(
        sent_at=None, next_attempt_at__lte=now, attempts__lt=MAX_ATTEMPTS
    ).values_list("pk", flat=True)
    sent = failed = 0
    retry_in = 0
    connection = get_connection()
    for pk in list(due[:200]):
        claimed = AlertEmail.objects.filter(pk=pk, sent_at=None, next_attempt_at__lte=now).update(
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
        )
        if not claimed:
            continue  # another sender has it
        email = AlertEmail.objects.get(pk=pk)
        try:
            _deliver(email, connection)
        except Exception as exc:
            failed += 1
            delay = retry_delay(email.attempts + 1)
            retry_in = min(retry_in or delay, delay)
            _record_failure(email, exc, now, delay)
        else:
            sent += 1
            AlertEmail.objects.filter(pk=pk).update(
                sent_at=timezone.now(), attempts=email.attempts + 1, last_error=""
            )
    return SendResult(sent=sent, failed=failed, retry_in=retry_in)


def _deliver(email: AlertEmail, connection: Any) -> None:
    message = EmailMultiAlternatives(
        subject=_subject(email.subject),  # one stored before subjects were built on one line
        body=email.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=email.recipients,
        connection=connection,
    )
    message.attach_alternative(email.html_body, "text/html")
    message.send()


def _record_failure(email: AlertEmail, exc: Exception, now: datetime, delay: int) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:500]
    attempts = email.attempts + 1
    AlertEmail.objects.filter(pk=email.pk).update(
        attempts=attempts,
        last_error=reason,
        next_attempt_at=now + timedelta(seconds=delay),
    )
    logger.warning(
        "alert e-mail %s (%s) could not be sent, attempt %s: %s; next try in %s s",
        email.pk,
        email.subject,
        attempts,
        reason,
        delay,
    )
