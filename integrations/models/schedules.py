"""An integration's own daily times: when its content sync, its statistics sync and its evening
statistics sync start, in the schedules' zone (`SYNC_SCHEDULE_TIMEZONE`). No row for a slot: the
site's time (`SYNC_CONTENT_AT`, …) through the shared beat entries of `integrations.schedules`."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.core.models import belongs_to


class SyncTime(models.Model):
    class Slot(models.TextChoices):
        CONTENT = "content", _("Content sync")
        STATS = "stats", _("Statistics sync")
        STATS_EVENING = "stats_evening", _("Evening statistics sync")

    integration = belongs_to("integrations.Integration", "sync_times")
    slot = models.CharField(max_length=20, choices=Slot.choices)
    at = models.TimeField()

    class Meta:
        verbose_name = _("daily sync time")
        verbose_name_plural = _("daily sync times")
        constraints = [
            models.UniqueConstraint(fields=["integration", "slot"], name="sync_time_unique")
        ]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.slot} {self.at:%H:%M}"
