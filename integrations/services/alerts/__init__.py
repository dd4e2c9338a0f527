"""Alerts by e-mail to a group's admins when its integration changes state: `states` decides
(one e-mail per change of state), `messages` says what, `recipients` to whom, `outbox`
stores and sends."""

from integrations.services.alerts.messages import redact
from integrations.services.alerts.outbox import SEND_TASK, alert_emails_send, retry_delay
from integrations.services.alerts.recipients import (
    alert_recipients,
    alerts_enabled,
    alerts_set_enabled,
)
from integrations.services.alerts.states import (
    alerts_check_stale,
    alerts_on_owner_status_changed,
    alerts_on_run_ended,
    alerts_owner_status_receiver,
    alerts_run_ended_receiver,
)

__all__ = [
    "SEND_TASK",
    "alert_emails_send",
    "alert_recipients",
    "alerts_check_stale",
    "alerts_enabled",
    "alerts_on_owner_status_changed",
    "alerts_on_run_ended",
    "alerts_owner_status_receiver",
    "alerts_run_ended_receiver",
    "alerts_set_enabled",
    "redact",
    "retry_delay",
]
