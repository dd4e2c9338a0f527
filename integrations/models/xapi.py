"""Udemy Business's xAPI door: the client credentials an integration gives Udemy Business, and
the statements it receives, stored before they are applied (durable first).

A `XapiClient` ties one OAuth application (django-oauth-toolkit's `Application`, client
credentials grant, secret hashed at rest) to one integration: its tokens write that
integration's statements and nothing else. Rotating or revoking deletes the application, and
with it every token it issued (invalid at once).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.core.models import belongs_to, unique


class XapiClient(models.Model):
    """The xAPI client of an integration (Udemy Business), at most one."""

    integration = models.OneToOneField(
        "integrations.Integration", on_delete=models.CASCADE, related_name="xapi_client"
    )
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="xapi_client",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_statement_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"xAPI client of {self.integration_id}"

    @property
    def enabled(self) -> bool:
        return self.application_id is not None


class XapiStatement(models.Model):
    """One xAPI statement as received (xAPI 1.0.3), and what became of it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")
        # No learner or no synced item matches it yet: applied after the next directory
        # import, content sync or statistics sync.
        WAITING = "waiting", _("Waiting for a learner or course")

    integration = belongs_to("integrations.Integration", "xapi_statements")
    statement_id = models.UUIDField()
    raw = models.JSONField()
    digest = models.CharField(max_length=64)  # SHA-256 of the canonical JSON: conflicts
    received_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=300, blank=True, default="")
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [unique("integration", "statement_id", name="xapi_statement_unique")]
        indexes = [models.Index(fields=["integration", "state", "id"], name="xapi_state_idx")]

    def __str__(self) -> str:
        return str(self.statement_id)
