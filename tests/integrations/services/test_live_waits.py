"""An outage is never "Running · No error so far" in silence: the client's retries and waits
show on the run page while they last (a real loopback sandbox answering 503s). The client's
waits are held until the page has been read (its `sleep` parameter), so the page is read while
the run waits whatever the machine's speed."""

from __future__ import annotations

import threading
import time

import pytest
from django.test import Client
from django.urls import reverse

from integrations.core.runs import wait_words
from integrations.models import SyncRun
from integrations.providers.udemy import provider
from integrations.services.sync import sync_execute
from tests.factories import group_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_wait_words_read_as_an_admin_reads():
    why = "GET /api-2.0/organizations/1/courses/list/: connection refused, retry 3/6"
    assert wait_words("Udemy", why, 8.2, "retry") == (
        "Udemy unreachable or failing (connection refused) — retry 3 of 6, next in 8 s"
    )
    assert wait_words("Udemy", "GET /x: 429, retry 1/5", 30, "rate_limit").startswith(
        "Udemy asks to slow down — retry 1 of 5"
    )


def held(read: threading.Event):
    """A client `sleep` that waits for `read` (the page was read) instead of the seconds asked:
    the run shows its wait until then, and the test never sleeps out a Retry-After."""
    return lambda seconds: read.wait(30)


def test_the_run_page_shows_the_retries_while_they_happen(
    make_udemy_sandbox, make_integration, settings, monkeypatch
):
    settings.UDEMY_MAX_RETRIES = 5
    read = threading.Event()  # the page showed the wait: the client may stop waiting
    make_client = provider.make_client
    monkeypatch.setattr(
        provider, "make_client", lambda integration: make_client(integration, sleep=held(read))
    )
    sandbox = make_udemy_sandbox(courses=120, paths=0, learners=1)
    integration = make_integration(sandbox)
    client = Client()
    client.force_login(group_admin(integration.group, username="watcher"))
    sandbox.fail(path_contains="courses/list", status=503, retry_after=20, times=3)
    run = SyncRun.objects.create(
        integration=integration, kind="content", trigger=SyncRun.Trigger.MANUAL
    )
    worker = threading.Thread(target=sync_execute, kwargs={"run_id": run.pk})
    worker.start()
    url = reverse(
        "integrations:run_progress", kwargs={"slug": integration.group.slug, "run_id": run.pk}
    )
    seen = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and worker.is_alive():
        html = client.get(url).content.decode()
        if 'data-testid="run-waiting-reason"' in html:
            seen = html
            break
        time.sleep(0.2)  # polling the page until the wait shows
    read.set()
    worker.join(timeout=60)
    assert "Udemy unreachable or failing — retry" in seen and "(503)" not in seen
    assert "of 5, next in 20 s" in seen
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    final = client.get(url).content.decode()
    assert 'data-testid="run-waiting-reason"' not in final  # over: no stale "waiting"
