"""The alert e-mails' outbox: each one rendered once (`messages`) for its recipients
(`recipients`) and stored as an `AlertEmail`, then sent by a task, with retries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from catalog.models import Group
from integrations.models import AlertEmail, Integration, PlatformConnection, PlatformRun, SyncRun

from .messages import (
    Message,
    integration_context,
    integration_message,
    platform_context,
    platform_message,
    platform_secrets,
    quote_upstream_text,
    redact,
    secrets_of,
    subject_line,
)
from .recipients import alert_audiences

logger = logging.getLogger(__name__)

SEND_TASK = "integrations.tasks.send_alerts"
MAX_ATTEMPTS = 30  # about a day of retries (the delay grows to an hour)
CLAIM_SECONDS = 600  # a sender's hold on an e-mail it is sending (a crashed sender lets go)


def alert_email_write(
    integration: Integration, topic: str, state: str, now: datetime, run: SyncRun | None = None
) -> AlertEmail | None:
    """Render and store one alert e-mail per language and time zone of its recipients and queue
    their sending; None when nobody receives it, else the first one written. Each recipient
    reads it in their own language and zone (`recipients.alert_audiences`), whoever's request
    or task raised it."""
    return _emails_write(
        {"integration": integration},
        integration.group,
        topic,
        state,
        now,
        message=lambda: integration_message(integration, topic, state, run),
        context=lambda message: integration_context(integration, topic, state, run),
        secrets=secrets_of(integration),
    )


def platform_alert_email_write(
    connection: PlatformConnection, topic: str, state: str, now: datetime, run: PlatformRun
) -> AlertEmail | None:
    """The alert of a learning-platform connection (its weekly API budget): the same outbox,
    recipients and redaction as the integrations' alerts."""
    return _emails_write(
        {"connection": connection}, connection.group, topic, state, now,
        message=lambda: platform_message(connection, state, run),
        context=lambda message: platform_context(connection, state, run, message),
        secrets=platform_secrets(connection),
    )  # fmt: skip


def _emails_write(
    owner: dict[str, Any],
    group: Group,
    topic: str,
    state: str,
    now: datetime,
    *,
    message: Callable[[], Message],
    context: Callable[[Message], dict[str, Any]],
    secrets: tuple[str, ...],
) -> AlertEmail | None:
    audiences = alert_audiences(group=group)
    if not audiences:
        ((name, obj),) = owner.items()
        logger.info("alert %s/%s of %s %s: no recipient", topic, state, name, obj.pk)
        return None
    emails = []
    for locale, recipients in audiences:
        with translation.override(locale.language), timezone.override(ZoneInfo(locale.time_zone)):
            rendered = message()
            values = quote_upstream_text(context(rendered))
            emails.append(
                AlertEmail.objects.create(
                    **owner,
                    topic=topic,
                    state=state,
                    recipients=recipients,
                    subject=subject_line(
                        redact(f"[LMS Bridge] {rendered.subject}", secrets=secrets)
                    ),
                    text_body=redact(
                        render_to_string("integrations/email/alert.txt", values), secrets=secrets
                    ),
                    html_body=redact(
                        render_to_string("integrations/email/alert.html", values), secrets=secrets
                    ),
                    next_attempt_at=now,
                )
            )
    transaction.on_commit(_queue_sending)
    return emails[0]


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
        subject=subject_line(email.subject),  # one stored before subjects were built on one line
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
