"""Empty the metrics directory (PROMETHEUS_MULTIPROC_DIR) before the processes start.

Run it while no web or worker process is running (`make run` does, before it starts them): the
counters start again from zero, which Prometheus reads as a restart. A process still running
would go on writing into files that no scrape reads any more.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.core.metrics import clear_multiprocess_dir


class Command(BaseCommand):
    help = "Empty PROMETHEUS_MULTIPROC_DIR (only while no web or worker process runs)."

    def handle(self, *args: Any, **options: Any) -> None:
        directory = settings.PROMETHEUS_MULTIPROC_DIR
        if not directory:
            self.stdout.write("PROMETHEUS_MULTIPROC_DIR is not set: nothing to clear.")
            return
        removed = clear_multiprocess_dir(directory)
        self.stdout.write(f"Cleared {directory} ({removed} files).")
