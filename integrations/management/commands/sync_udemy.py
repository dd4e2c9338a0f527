"""Run one sync in the foreground: `manage.py sync_udemy <group-slug> --kind content|stats`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from integrations.core.execute import Reschedule
from integrations.models import Integration, SyncRun
from integrations.services.sync import sync_execute, sync_request_foreground


class Command(BaseCommand):
    help = "Run a Udemy content or statistics sync now, in this process, with progress."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("group", help="slug of the target group")
        parser.add_argument("--kind", choices=["content", "stats"], default="content")
        parser.add_argument("--json", action="store_true", help="print the run as the API does")

    def handle(self, *args: Any, group: str, kind: str, json: bool, **options: Any) -> None:
        integration = Integration.objects.filter(group__slug=group, provider="udemy").first()
        if integration is None:
            raise CommandError(f"Group '{group}' has no Udemy integration.")
        run = sync_request_foreground(integration=integration, kind=kind)
        if run.status == SyncRun.Status.SKIPPED:
            raise CommandError(run.error_summary)
        while True:
            try:
                run = sync_execute(run_id=run.pk, progress=self._progress)
                break
            except Reschedule as exc:
                if not exc.time_slice:  # in the foreground, a used time slice just goes on
                    raise CommandError(f"Run {run.pk} must continue later: {exc.reason}") from exc
        self.stdout.write("")
        if json:
            self.stdout.write(_dumps(run))
        else:
            self._summary(run)
        if run.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
            raise CommandError(f"Run {run.pk} ended {run.status}: {run.error_summary}")

    def _progress(self, run: SyncRun) -> None:
        total = run.progress_total or "?"
        self.stdout.write(f"\r{run.progress_done}/{total} items", ending="")
        self.stdout.flush()

    def _summary(self, run: SyncRun) -> None:
        self.stdout.write(
            f"Run {run.pk} {run.status}: fetched {run.fetched}, created {run.created}, "
            f"updated {run.updated}, unchanged {run.unchanged}, archived {run.archived}, "
            f"restored {run.restored}, failed {run.failed}, unmatched learners "
            f"{run.unmatched_learners}, anonymized {run.anonymized}"
        )
        if run.archival_decision:
            self.stdout.write(f"Archival {run.archival_decision}: {run.archival_reason}")


def _dumps(run: SyncRun) -> str:
    from integrations.api.serializers import SyncRunSerializer

    return json.dumps(SyncRunSerializer(run).data, indent=2, default=str)
