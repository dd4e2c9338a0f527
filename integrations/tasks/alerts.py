"""Alert e-mails: send the outbox (queued when a state changes), check staleness every hour."""

from __future__ import annotations

from celery import shared_task

from integrations.services.alerts import alert_emails_send, alerts_check_stale

MAX_RETRIES = 5


@shared_task(bind=True, name="integrations.tasks.send_alerts", max_retries=MAX_RETRIES)
def send_alerts(self) -> int:
    """Send the alert e-mails that are due; a failure retries the task with a growing delay
    (and past its retries, the hourly `check_alerts` tries again)."""
    result = alert_emails_send()
    if result.failed and self.request.retries < MAX_RETRIES:
        raise self.retry(countdown=result.retry_in)
    return result.sent


@shared_task(name="integrations.tasks.check_alerts")
def check_alerts() -> int:
    """Every hour (beat): alert stale integrations, then send whatever is due."""
    alerts_check_stale()
    return alert_emails_send().sent
