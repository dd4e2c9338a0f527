"""Delete finished sync runs (and their errors and pages) older than the retention period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from integrations.models import SyncRun


class Command(BaseCommand):
    help = "Purge finished sync runs older than --days (default SYNC_RUN_RETENTION_DAYS)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=settings.SYNC_RUN_RETENTION_DAYS)

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(days=days)
        old = SyncRun.objects.filter(created_at__lt=cutoff, status__in=SyncRun.FINISHED)
        deleted, _ = old.delete()
        self.stdout.write(f"Deleted {deleted} rows of runs older than {days} days.")
