"""`GET /metrics`: the Prometheus scrape endpoint, never public.

Who may scrape (settings `METRICS_TOKEN`, `METRICS_ALLOWED_IPS`):

- a token set: `Authorization: Bearer <token>` is required (401 otherwise);
- an allow-list set: the connecting address (`REMOTE_ADDR`, never a forwarded header anyone
  can write) must be in it (403 otherwise);
- neither: the endpoint is off (404); in development only, it answers loopback (`curl` beside
  `make run`), never a request a proxy forwarded. In production a reverse proxy on the same host
  makes every request come from loopback: there, a token or an allow-list is the only way in.

What a scrape returns, three sources in one answer:

- the counters and histograms the processes increment (`integrations.core.metrics`): read
  from the multiprocess directory, so every worker's and web process's values are added up
  (or this process's own when no directory is configured);
- per integration and connection gauges and the busy runs, read from the database
  (`integrations.metrics`);
- the depth of each Celery queue, read from the broker: on Redis the LLEN of the queue's keys
  (one per priority step), on the embedded file broker the number of message files of the queue.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from kombu.exceptions import ChannelError
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from integrations.metrics import DatabaseCollector

logger = logging.getLogger(__name__)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


# ------------------------------------------------------------------ who may scrape


def _address(value: str) -> Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _allowed(address: Address | None, networks: list[str]) -> bool:
    if address is None:
        return False
    return any(address in ipaddress.ip_network(n.strip(), strict=False) for n in networks)


FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _from_loopback(request: HttpRequest, address: Address | None) -> bool:
    """A request of this very host, not one a proxy on it forwarded."""
    forwarded = any(request.META.get(header) for header in FORWARDING_HEADERS)
    return address is not None and address.is_loopback and not forwarded


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer to a request that may not scrape, None for one that may."""
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS
    address = _address(request.META.get("REMOTE_ADDR", ""))
    if networks:
        if not _allowed(address, networks):
            return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    elif not token and not (settings.METRICS_OPEN_TO_LOOPBACK and _from_loopback(request, address)):
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            response = HttpResponse("Unauthorized.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return None


# ------------------------------------------------------------------ what a scrape reads


class InProcessCollector:
    """This process's own values (no multiprocess directory: a test, a single process)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def queue_names() -> list[str]:
    from lmsbridge.celery import app

    names = [app.conf.task_default_queue or "celery"]
    for queue in app.conf.task_queues or ():
        name = getattr(queue, "name", None) or str(queue)
        if name not in names:
            names.append(name)
    return names


def queue_depths(names: list[str]) -> dict[str, int]:
    """Messages waiting in each queue, asked of the broker (a passive declare: nothing is
    created; a queue Redis has never seen holds nothing)."""
    from lmsbridge.celery import app

    depths = {}
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        channel = conn.default_channel
        for name in names:
            try:
                depths[name] = channel.queue_declare(queue=name, passive=True).message_count
            except ChannelError:
                depths[name] = 0
    return depths


class QueueDepthCollector:
    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "lmsbridge_queue_depth",
            "Messages waiting in a Celery queue (read from the broker at scrape time).",
            labels=["queue"],
        )
        for name, count in queue_depths(queue_names()).items():
            depth.add_metric([name], float(count))
        yield depth


class Guarded:
    """A collector whose failure (database or broker down) leaves the rest of the scrape
    whole; `lmsbridge_scrape_source_up` says which source answered."""

    def __init__(self, sources: dict[str, Callable[[], Iterator[Metric]]]) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "lmsbridge_scrape_source_up",
            "1 when the source (database, broker) answered this scrape, 0 when it failed.",
            labels=["source"],
        )
        for name, collect in self.sources.items():
            try:
                metrics = list(collect())
            except Exception:
                logger.exception("metrics: the %s could not be read", name)
                up.add_metric([name], 0.0)
                continue
            up.add_metric([name], 1.0)
            yield from metrics
        yield up


def registry() -> CollectorRegistry:
    """A registry for one scrape (nothing registered globally)."""
    scrape = CollectorRegistry(auto_describe=False)
    directory = settings.PROMETHEUS_MULTIPROC_DIR
    if directory and os.path.isdir(directory):
        MultiProcessCollector(scrape, path=directory)
    else:
        scrape.register(InProcessCollector())
    sources = {"database": DatabaseCollector().collect, "broker": QueueDepthCollector().collect}
    scrape.register(Guarded(sources))
    return scrape


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if (refused := refusal(request)) is not None:
        return refused  # before anything else: an unauthorised caller learns nothing
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
