"""Alerts over a real SMTP server on loopback (aiosmtpd): a sandbox sync refused with 401 on a
real worker ends with the admin's e-mail at the server; a mail server that is down changes
nothing about the sync, and the alert goes out once it is back."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.utils import timezone

from integrations.models import AlertEmail, Integration, SyncRun
from integrations.services.alerts import outbox
from integrations.tasks import check_alerts, run_sync
from tests.celery_worker import celery_process, wait_for, worker_args
from tests.factories import GroupFactory, group_admin
from tests.run_messages import catch_sent_tasks

WRONG_SECRET = "wr0ng-Sx9q7z/+42"  # no English word in it: runs of 6+ characters are scrubbed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it so
        self.messages.append(envelope)
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list:
        return self.inbox.messages


def _parsed(envelope):
    return message_from_bytes(envelope.content, policy=policy.default)


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_sync_refused_by_udemy_on_a_worker_mails_the_admin_over_smtp(
    make_udemy_sandbox, make_integration, tmp_path, worker_queue
):
    sandbox = make_udemy_sandbox()
    group = GroupFactory(name="Sales", slug="sales")
    group_admin(group, username="alice")
    integration = make_integration(sandbox, group=group, client_secret=WRONG_SECRET)
    run = SyncRun.objects.create(integration=integration, kind="content", trigger="manual")
    log = tmp_path / "worker.log"
    with (
        SmtpServer(_free_port()) as smtp,
        celery_process(
            *worker_args(worker_queue),
            log=log,
            EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
            # What the worker queues (the alert's sending) stays on this test's queue.
            CELERY_TASK_DEFAULT_QUEUE=worker_queue,
            SITE_URL="https://bridge.example.com",
            DEFAULT_FROM_EMAIL="alerts@bridge.example.com",
        ),
    ):
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        run_sync.apply_async(args=[run.pk], queue=worker_queue)
        wait_for(lambda: smtp.messages, timeout=90, message="the alert at the SMTP server")
    run.refresh_from_db()
    integration.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert integration.status == Integration.Status.ERROR
    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["alice@example.com"]
    assert envelope.mail_from == "alerts@bridge.example.com"
    message = _parsed(envelope)
    assert message["Subject"] == "[LMS Bridge] Udemy integration of Sales is in Error"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Credentials refused" in text and "client secret" in text
    assert f"https://bridge.example.com/groups/sales/settings/integrations/runs/{run.pk}/" in text
    assert "https://bridge.example.com/groups/sales/settings/integrations/udemy/" in html
    raw = envelope.content.decode("utf-8", "replace")
    assert WRONG_SECRET not in raw and "wr0ng-Sx9q" not in raw
    assert AlertEmail.objects.get().sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_smtp_down_changes_nothing_and_the_alert_is_sent_later(
    make_udemy_sandbox, make_integration, run_sync, settings, caplog, monkeypatch
):
    queued = []
    catch_sent_tasks(monkeypatch, queued.append)
    port = _free_port()  # nothing listens there yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    sandbox = make_udemy_sandbox()
    group = GroupFactory(name="Sales", slug="sales")
    group_admin(group, username="alice")
    integration = make_integration(sandbox, group=group)
    sandbox.fail(path_contains="courses", status=401, times=1)

    failed = run_sync(integration)
    assert failed.status == SyncRun.Status.FAILED
    assert outbox.SEND_TASK in queued  # the receiver asked for the sending, it did not send
    with caplog.at_level("WARNING", logger="integrations.services.alerts.outbox"):
        assert check_alerts() == 0  # the hourly check finds the mail server down
    assert "could not be sent" in caplog.text and "attempt 1" in caplog.text
    email = AlertEmail.objects.get()
    assert email.sent_at is None and email.attempts == 1 and email.last_error

    # The sync's outcome is what it would have been without alerts: the next one recovers.
    recovered = run_sync(integration)
    assert recovered.status == SyncRun.Status.SUCCEEDED
    integration.refresh_from_db()
    assert integration.status == Integration.Status.ACTIVE

    with SmtpServer(port) as smtp, time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert check_alerts() == 2  # the Error e-mail, retried, and the recovery
    subjects = [_parsed(m)["Subject"] for m in smtp.messages]
    assert subjects == [
        "[LMS Bridge] Udemy integration of Sales is in Error",
        "[LMS Bridge] Udemy integration of Sales: recovered",
    ]
