"""A platform outage is never "Running · No error so far" in silence: the LearnUpon and
Coursebase clients' retries show on the platform run page while they last, as a Udemy sync's do
(real loopback sandboxes answering 503s). The clients' waits are held until the page has been
read (their `sleep` parameter), so the page is read while the run waits whatever the machine's
speed."""

from __future__ import annotations

import threading
import time

import pytest
from django.urls import reverse

from integrations.core.runs import wait_words
from integrations.models import PlatformRun
from integrations.platforms.connector_common import ClientConnector
from integrations.services.platforms import platform_run_execute

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_platform_wait_reads_as_an_admin_reads():
    """No header name or report status code alone: what the platform does, and for how long."""
    throttle = wait_words("LearnUpon", "X-LU-Rate-Limit-Remaining-Minute is 2", 4.2, "throttle")
    assert throttle == "LearnUpon allows few more requests this minute — next in 4 s"
    poll = wait_words("Coursebase", "learners export pending", 8, "poll")
    assert poll == (
        "Coursebase is still preparing a report (learners export pending) — checking again in 8 s"
    )
    retry = wait_words("LearnUpon", "GET /api/v1/users: 503, retry 2/5", 4, "retry")
    assert retry == "LearnUpon unreachable or failing — retry 2 of 5, next in 4 s"


def held(read: threading.Event):
    """A client `sleep` that holds the Retry-After wait (20 s) until `read` (the page was read)
    instead of sleeping it out; shorter pauses (the client's own pacing) pass as asked."""
    return lambda seconds: read.wait(30) if seconds >= 20 else time.sleep(seconds)


@pytest.mark.parametrize("kind", ["learnupon", "coursebase"])
def test_the_platform_run_page_shows_the_retries_while_they_happen(
    kind, request, make_connection, page_client_for, admin_a, group_a, settings, monkeypatch
):
    settings.PLATFORM_MAX_RETRIES = 5
    settings.PLATFORM_RETRY_AFTER_CAP = 60  # the 20 s Retry-After is waited (held, below)
    read = threading.Event()  # the page showed the wait: the client may stop waiting
    make_client = ClientConnector.make_client
    monkeypatch.setattr(
        ClientConnector,
        "make_client",
        lambda self, connection, **options: make_client(
            self, connection, **options, sleep=held(read)
        ),
    )
    sandbox = request.getfixturevalue(f"{kind}_sandbox")
    connection = make_connection(sandbox, group=group_a)
    client = page_client_for(admin_a)
    sandbox.fail(status=503, retry_after=20, times=2)
    run = PlatformRun.objects.create(
        connection=connection, kind="directory", trigger=PlatformRun.Trigger.MANUAL
    )
    worker = threading.Thread(target=platform_run_execute, kwargs={"run_id": run.pk})
    worker.start()
    url = reverse("platforms:run_progress", kwargs={"slug": group_a.slug, "run_id": run.pk})
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
    vendor = connection.get_kind_display()
    # In words: the page drops the status code the stored reason keeps for the IT team.
    assert f"{vendor} unreachable or failing — retry 1 of 5, next in 20 s" in seen
    run.refresh_from_db()
    assert run.status == PlatformRun.Status.SUCCEEDED
    final = client.get(url).content.decode()
    assert 'data-testid="run-waiting-reason"' not in final  # over: no stale "waiting"
