"""Asking Coursebase for a report export and waiting for it (Coursebase API, report.export and
report.export.status): the request every export makes, in the language and time zone its
dates are read in, and the one-call fetch of the statistics source (`stats_source`), which
polls in the task as a Udemy page fetch would. The dashboard's reports, checkpointed across
reschedules, are `exports`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from integrations.core.download import LinkExpired
from integrations.core.execute import RunFailed

from ..base import PlatformBadResponse, PlatformNotFound
from .client import CoursebaseClient

EXPIRED_RETRIES = 2
MAX_POLL_INTERVAL = 30.0


def report_zone() -> ZoneInfo:
    """The time zone every export is requested in (`time_zone`), and its dates read in."""
    return ZoneInfo(settings.TIME_ZONE)


def request_export(client: CoursebaseClient, report_type: str) -> dict:
    """Ask for an export of `report_type` (or join the one running): its status."""
    return client.report_export(
        report_type, language=settings.REPORT_LANGUAGE, time_zone=settings.TIME_ZONE
    )


def export_timed_out(report_type: str, status: dict, max_wait: float) -> RunFailed:
    """The run's end when an export is still not finished after `max_wait` seconds."""
    return RunFailed(
        "timeout",
        f"Coursebase's {report_type} export was still {status['status']} after "
        f"{max_wait:g} s: nothing of it was stored; the next run asks again.",
        timed_out=True,
    )


def fetch_export(
    client: CoursebaseClient, report_type: str, file: Any, on_wait: Callable[[], None]
) -> tuple[dict, int]:
    """Export one report type and download its zip into `file` (left at its start): the
    finished status and the bytes written. An expired link or a vanished export asks again.
    (The statistics sync's source: it waits in the task, as a Udemy page fetch would.)"""
    status = request_export(client, report_type)
    for _ in range(EXPIRED_RETRIES + 1):
        finished = _wait_finished(client, report_type, status, on_wait)
        if finished is not None:
            try:
                size = client.download_export(finished["url"], file)
            except LinkExpired:
                pass
            else:
                file.seek(0)
                return finished, size
        status = request_export(client, report_type)
    raise PlatformBadResponse(
        f"The {report_type} report's download link kept expiring: nothing of it was stored."
    )


def _wait_finished(
    client: CoursebaseClient, report_type: str, status: dict, on_page: Callable[[], None]
) -> dict | None:
    """The finished status, polling with a growing interval; None if the export is gone."""
    max_wait = float(settings.REPORT_EXPORT_MAX_WAIT)
    interval, deadline = float(settings.REPORT_POLL_INTERVAL), time.monotonic() + max_wait
    while status["status"] != "finished":
        if time.monotonic() + interval > deadline:
            raise export_timed_out(report_type, status, max_wait)
        client.wait(f"{report_type} export {status['status']}", interval, "poll")
        interval = min(interval * 2, MAX_POLL_INTERVAL)
        on_page()  # renews the lease while Coursebase works
        try:
            status = client.report_status(report_type)
        except PlatformNotFound:
            return None
    return status
