"""Alerts by e-mail: the last state each integration (or learning-platform connection) was
alerted about, the outbox of e-mails still to send, and the admins who turned alerts off for a
group. An alert belongs to exactly one of an integration and a platform connection."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.core.models import belongs_to, unique
from integrations.models.platforms import PlatformConnection
from integrations.models.sync import Integration


def _owner_fields(related_name: str) -> tuple[models.ForeignKey, models.ForeignKey]:
    """The alert's owner: an integration or a platform connection (`_one_owner`: exactly one)."""
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.CASCADE, related_name=related_name
    )
    connection = models.ForeignKey(
        PlatformConnection,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name=related_name,
    )
    return integration, connection


def _one_owner(name: str) -> models.CheckConstraint:
    only_integration = models.Q(integration__isnull=False, connection__isnull=True)
    only_connection = models.Q(integration__isnull=True, connection__isnull=False)
    return models.CheckConstraint(condition=only_integration | only_connection, name=name)


class AlertState(models.Model):
    """The last state an integration's admins were told about, per topic: a new e-mail of a
    topic is written only when the state differs from the one recorded here (one e-mail per
    change of state, never one per failed run or retry)."""

    class Topic(models.TextChoices):
        STATUS = "status", _("Integration status")
        CONTENT = "content", _("Content syncs")
        STATS = "stats", _("Statistics syncs")
        STALE_CONTENT = "stale_content", _("Content freshness")
        STALE_STATS = "stale_stats", _("Statistics freshness")
        PLATFORM_BUDGET = "platform_budget", _("Learning platform API budget")
        REVIEW = "review", _("Catalog changes awaiting a decision")

    integration, connection = _owner_fields("alert_states")
    topic = models.CharField(max_length=20, choices=Topic.choices)
    state = models.CharField(max_length=20)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            unique("integration", "topic", name="one_alert_state_per_topic"),
            unique("connection", "topic", name="one_platform_alert_state_per_topic"),
            _one_owner("alert_state_has_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.integration or self.connection} {self.topic}: {self.state}"


class AlertEmail(models.Model):
    """One alert e-mail, rendered when its state changed and sent by a task (the outbox): a
    sync never waits on SMTP, and an e-mail that could not be sent is tried again later."""

    integration, connection = _owner_fields("alert_emails")
    topic = models.CharField(max_length=20, choices=AlertState.Topic.choices)
    state = models.CharField(max_length=20)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("alert e-mail")
        verbose_name_plural = _("alert e-mails")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"])]
        constraints = [_one_owner("alert_email_has_one_owner")]

    def __str__(self) -> str:
        return self.subject


class AlertOptOut(models.Model):
    """An admin who receives no alert of a group's integrations (set on the integration page
    or through the API)."""

    user = belongs_to(settings.AUTH_USER_MODEL, "+")
    group = belongs_to("catalog.Group", "+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [unique("user", "group", name="one_alert_opt_out_per_user_and_group")]

    def __str__(self) -> str:
        return f"{self.user} — no alerts for {self.group}"
