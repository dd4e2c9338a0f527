"""Udemy Business's xAPI statements: applied in batches after they were stored."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.core.cache import cache

from integrations.models import PlatformRun, SyncRun, XapiStatement
from integrations.services.xapi_apply import (
    xapi_apply_pending,
    xapi_integrations_with,
    xapi_waiting_retry,
)

# A POST schedules at most one apply per integration per this many seconds (debounce): the
# statements of a burst are applied together by the task queued first, and those stored after
# it was queued by one more task at the window's end (`xapi_apply_soon`).
DEBOUNCE_SECONDS = 1
MAX_BATCHES = 50  # per execution; a longer backlog queues the task again


@shared_task(name="integrations.tasks.xapi_apply", ignore_result=True)
def xapi_apply(integration_id: int) -> int:
    """Apply the integration's pending statements, batch after batch; how many were applied."""
    cache.delete(_debounce_key(integration_id))
    done = 0
    for _ in range(MAX_BATCHES):
        counts = xapi_apply_pending(integration_id=integration_id)
        done += counts.applied
        if not sum(counts[:3]):
            return done
    xapi_apply.delay(integration_id)
    return done


@shared_task(name="integrations.tasks.xapi_retry_waiting", ignore_result=True)
def xapi_retry_waiting() -> int:
    """Every few minutes (beat): statements waiting for a learner or an item are tried again
    (a directory import, a content or statistics sync may have brought them); and pending
    ones whose apply was lost are applied."""
    integrations = set(xapi_integrations_with(state=XapiStatement.State.WAITING))
    integrations |= set(xapi_integrations_with(state=XapiStatement.State.PENDING))
    for integration_id in integrations:
        xapi_waiting_retry(integration_id=integration_id)
        xapi_apply.delay(integration_id)
    return len(integrations)


def xapi_apply_soon(integration_id: int) -> None:
    """Queue `xapi_apply` for the integration: at once if none was queued in the last
    `DEBOUNCE_SECONDS` (a window opens); else one more at the end of that window, once per
    window. The task queued first may already have run when a statement of the same window is
    stored (and the cache need not be shared with the worker, whose clearing of the key would
    reopen the window): the task at the window's end applies it, instead of the periodic
    retry minutes later."""
    now = time.time()
    key = _debounce_key(integration_id)
    if cache.add(key, now, timeout=DEBOUNCE_SECONDS):
        xapi_apply.apply_async((integration_id,), countdown=0)
        return
    opened = cache.get(key)
    if opened is None:  # the window closed in between
        xapi_apply.apply_async((integration_id,), countdown=0)
        return
    if cache.add(f"{key}:trailing:{opened}", 1, timeout=DEBOUNCE_SECONDS * 2):
        xapi_apply.apply_async(
            (integration_id,), countdown=max(0.0, opened + DEBOUNCE_SECONDS - now)
        )


def _debounce_key(integration_id: int) -> str:
    return f"xapi-apply-queued:{integration_id}"


logger = logging.getLogger(__name__)


def xapi_after_run_receiver(sender: type, run: SyncRun | PlatformRun, **kwargs: Any) -> None:
    """`run_ended` (after commit): a content sync may have brought the course, a directory
    import (or a statistics sync) the learner, that a waiting statement named: those of the
    integrations concerned are put back in line at once instead of at the next periodic retry.
    Never raises: what it follows has already happened."""
    try:
        if run.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
            return
        # A sync concerns its own integration (one UPDATE); a directory import, any of them.
        if isinstance(run, SyncRun):
            concerned = [run.integration_id]
        else:
            concerned = xapi_integrations_with(state=XapiStatement.State.WAITING)
        for integration_id in concerned:
            if xapi_waiting_retry(integration_id=integration_id):
                xapi_apply_soon(integration_id)
    except Exception:
        logger.exception("xapi: statements waiting after run %s not retried", run.pk)
