"""The Celery application: configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker's exchange tables survive a killed process (see lmsbridge.file_broker).
TRANSPORT_ALIASES["filesystem"] = "lmsbridge.file_broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lmsbridge.settings")

app = Celery("lmsbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A sync must survive a worker crash: acknowledge after the task ends and give the message
    # back to the broker when the worker process dies (SIGKILL, OOM).
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=7 * 24 * 3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_track_started=True,
)
app.autodiscover_tasks()


@app.task(name="lmsbridge.ping")
def ping(marker: str = "pong") -> str:
    """Round-trip check used by the health endpoint and the worker smoke tests."""
    return marker
