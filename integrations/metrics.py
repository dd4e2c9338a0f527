"""Metrics read from the database when Prometheus scrapes `/metrics` (`lmsbridge.metrics`).

What the tables already hold is not counted by the processes but read at scrape time: per
integration its status and how long since a content and a statistics run last went through
(the staleness an alert watches), per platform connection its status, and the runs queued or
running. Read on demand, they are right whichever process updated the rows, and need no
multiprocess bookkeeping. Labels are identifiers and choices only (no e-mail, no name).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from integrations.models import Integration, PlatformConnection, PlatformRun, SyncRun


class DatabaseCollector:
    """A prometheus-client collector: a few queries per scrape, whatever the number of runs."""

    def collect(self) -> Iterator[Metric]:
        yield from integration_metrics()
        yield connection_status()
        yield busy_runs()


def integration_metrics() -> Iterator[Metric]:
    now = timezone.now()
    status = GaugeMetricFamily(
        "lmsbridge_integration_status",
        "1 for the integration's current status (active, error, inactive), 0 for the others.",
        labels=["integration_id", "provider", "status"],
    )
    age = GaugeMetricFamily(
        "lmsbridge_integration_last_success_age_seconds",
        "Seconds since a run of this kind last went through (succeeded or partial), counted "
        "from the activation when none has; integrations that are active or in error only.",
        labels=["integration_id", "provider", "kind"],
    )
    stale = GaugeMetricFamily(
        "lmsbridge_integration_stale",
        "1 when no run of this kind went through for SYNC_STALE_AFTER_HOURS (as the "
        "integration's page and the API's health say), else 0.",
        labels=["integration_id", "provider", "kind"],
    )
    fields = ("id", "provider", "status", "activated_at", "created_at")
    rows = Integration.objects.only(*fields, *Integration.LAST_RUN_FIELDS.values()).order_by("id")
    for integration in rows:
        ident, provider = str(integration.pk), integration.provider
        for value in Integration.Status.values:
            status.add_metric([ident, provider, value], float(integration.status == value))
        if not integration.accepts_runs:
            continue
        for kind in Integration.LAST_RUN_FIELDS:
            since = integration.last_success_at(kind)
            if since is None:
                continue
            age.add_metric([ident, provider, kind], max(0.0, (now - since).total_seconds()))
            stale.add_metric([ident, provider, kind], float(integration.is_stale(kind, now=now)))
    yield from (status, age, stale)


def connection_status() -> Metric:
    status = GaugeMetricFamily(
        "lmsbridge_platform_connection_status",
        "1 for the learning-platform connection's current status, 0 for the others.",
        labels=["connection_id", "platform", "status"],
    )
    for ident, kind, current in PlatformConnection.objects.values_list("id", "kind", "status"):
        for value in PlatformConnection.Status.values:
            status.add_metric([str(ident), kind, value], float(current == value))
    return status


def busy_runs() -> Metric:
    busy = GaugeMetricFamily(
        "lmsbridge_runs_busy",
        "Runs queued or running now.",
        labels=["provider", "kind", "status"],
    )
    for model in (SyncRun, PlatformRun):
        owner = model._meta.get_field(model.OWNER).related_model
        connector = f"{model.OWNER}__{owner.CONNECTOR_FIELD}"
        rows = (
            model.objects.filter(status__in=model.BUSY)
            .values_list(connector, "kind", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for provider, kind, status, n in rows:
            busy.add_metric([provider, kind, status], float(n))
    return busy
