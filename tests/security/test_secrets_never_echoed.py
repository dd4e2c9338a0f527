"""Promise (Secrets and access): "the secret never appears in any HTML page, API response, log
line, task argument or error report".

Each test makes something fail *with the secret in play* (a sync Udemy rejects or breaks, a
mistyped secret posted to the console, a crash while a secret is posted) and then scans every
place the secret could escape to: log records at DEBUG (root, urllib3, requests), the rows of
every table (encrypted columns excepted: they hold ciphertext by design), the Celery message and
stored result, and the e-mail an admin would get.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.result import AsyncResult
from celery.signals import before_task_publish
from django.apps import apps
from django.core import mail, serializers
from django.test import Client
from django.urls import reverse

from integrations.core.fields import EncryptedTextField
from integrations.models import AuditEntry, Integration, SyncError, SyncRun
from integrations.services.sync import sync_request
from integrations.tasks import run_sync
from tests.celery_worker import celery_process, wait_for

from .conftest import CLIENT_ID, SECRET, WRONG_SECRET, assert_no_secret

LOGGERS = ["", "urllib3", "requests", "integrations", "django", "celery"]


@pytest.fixture
def all_logs(caplog) -> pytest.LogCaptureFixture:
    """Capture every logger at DEBUG (the settings keep urllib3 at WARNING: undo that here)."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = [caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), repr(record.__dict__)]
    return texts


def database_texts() -> Iterator[str]:
    """Every row of every table as JSON, encrypted columns left out (ciphertext by design)."""
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if not isinstance(f, EncryptedTextField) and not f.primary_key
        ]
        rows = model._default_manager.all()
        if rows.exists():
            yield serializers.serialize("json", rows, fields=fields)


def assert_clean_everywhere(caplog, *secrets: str) -> None:
    assert_no_secret(log_texts(caplog), *secrets, where="a log record")
    assert_no_secret(database_texts(), *secrets, where="a database row")


# --------------------------------------------------------------------------- failing syncs


def sandbox_rejecting_the_secret(make_udemy_sandbox):
    """401: the sandbox knows another secret than the one the integration sends."""
    return make_udemy_sandbox(client_id=CLIENT_ID, client_secret="the-secret-Udemy-expects")


def sandbox_with_a_5xx_burst(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(client_id=CLIENT_ID, client_secret=SECRET)
    sandbox.fail(status=500, times=10)
    return sandbox


def sandbox_answering_html(make_udemy_sandbox):
    sandbox = make_udemy_sandbox(client_id=CLIENT_ID, client_secret=SECRET)
    sandbox.fail(status=200, body="html", times=20)  # outlives the retries
    return sandbox


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_sandbox", "category"),
    [
        (sandbox_rejecting_the_secret, "auth"),
        (sandbox_with_a_5xx_burst, "UdemyUnavailable"),
        (sandbox_answering_html, "UdemyBadResponse"),
    ],
    ids=["401", "500-burst", "html-body"],
)
def test_a_failing_sync_leaks_the_secret_nowhere(
    make_udemy_sandbox, make_integration, run_sync, all_logs, settings, make_sandbox, category
):
    """Logs at DEBUG, SyncRun, SyncError, AuditEntry and every other row stay clean."""
    settings.UDEMY_MAX_RETRIES = 2
    sandbox = make_sandbox(make_udemy_sandbox)
    integration = make_integration(sandbox, client_secret=SECRET)
    run = run_sync(integration)
    assert run.status == SyncRun.Status.FAILED
    assert SyncError.objects.filter(run=run, category=category).exists()
    assert sandbox.request_log, "the client really talked to the sandbox"
    assert all_logs.records, "the failure was logged"
    assert_clean_everywhere(all_logs)


@pytest.mark.django_db
def test_the_run_and_error_rows_of_a_rejected_sync_say_why_without_the_secret(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = sandbox_rejecting_the_secret(make_udemy_sandbox)
    integration = make_integration(sandbox, client_secret=SECRET)
    run = run_sync(integration)
    error = SyncError.objects.get(run=run)
    assert "rejected the credentials" in error.message
    integration.refresh_from_db()
    assert integration.status == Integration.Status.ERROR
    texts = [run.error_summary, error.message, error.excerpt, integration.status_message]
    assert_no_secret(texts, where="the run, its error or the integration status")


# --------------------------------------------------------------------------- console form


def form_data(sandbox, secret: str) -> dict[str, str]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": secret,
        "organization_name": sandbox.organization_name,
        "organization_id": sandbox.organization_id,
        "api_base_url": sandbox.api_base_url,
        "action": "setup",
    }


@pytest.mark.django_db
def test_a_setup_with_a_wrong_secret_leaks_it_nowhere(
    client, group_a, admin_a, secret_sandbox, all_logs
):
    """The typed (wrong) secret is neither logged, echoed, audited nor stored in clear."""
    client.force_login(admin_a)
    url = reverse("integrations:provider", args=[group_a.slug, "udemy"])
    response = client.post(url, form_data(secret_sandbox, WRONG_SECRET))
    assert response.status_code == 400
    html = response.content.decode()
    assert "rejected the credentials" in html
    assert secret_sandbox.request_log, "the check really reached the sandbox"
    assert not Integration.objects.filter(group=group_a).exists()  # nothing stored
    assert_no_secret([html], WRONG_SECRET, SECRET, where="the re-rendered form")
    assert_clean_everywhere(all_logs, WRONG_SECRET, SECRET)


@pytest.mark.django_db
def test_a_successful_setup_audits_field_names_only(client, group_a, admin_a, secret_sandbox):
    client.force_login(admin_a)
    url = reverse("integrations:provider", args=[group_a.slug, "udemy"])
    response = client.post(url, form_data(secret_sandbox, SECRET))
    assert response.status_code == 302
    update = AuditEntry.objects.get(action="update")
    assert "client_secret" in update.fields
    assert_no_secret(
        [json.dumps(list(AuditEntry.objects.values()), default=str)], where="audit entries"
    )


# --------------------------------------------------------------------------- tasks


def test_run_sync_takes_a_run_id_only():
    """The task's only argument is the run id: nothing else can carry a secret to the broker."""
    assert list(inspect.signature(run_sync.run).parameters) == ["run_id"]


@pytest.fixture
def published() -> Iterator[list[dict]]:
    """Every Celery message published during the test: body and headers, as sent."""
    messages: list[dict] = []

    def record(body=None, headers=None, **kwargs) -> None:
        messages.append({"body": body, "headers": headers})

    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_rejected_sync_in_a_real_worker_leaks_nothing(
    make_udemy_sandbox, make_integration, published, worker_queue, tmp_path: Path, monkeypatch
):
    """Broker message, stored result and the worker's DEBUG log hold no secret."""
    sandbox = sandbox_rejecting_the_secret(make_udemy_sandbox)
    integration = make_integration(sandbox, client_secret=SECRET)
    monkeypatch.setattr(run_sync, "apply_async", _on_queue(run_sync.apply_async, worker_queue))
    log = tmp_path / "worker.log"
    args = ("worker", "-Q", worker_queue, "--concurrency", "1", "-l", "debug")
    with celery_process(
        *args, "--without-mingle", "--without-gossip", "-n", f"{worker_queue}@%h", log=log,
        LOG_LEVEL="DEBUG",
    ):  # fmt: skip
        wait_for(lambda: "ready" in log.read_text(), timeout=60, message="worker ready")
        run = sync_request(integration=integration, kind="content", trigger="manual")
        result = AsyncResult(run.task_id)
        assert result.get(timeout=90) == SyncRun.Status.FAILED
    assert len(published) == 1
    assert published[0]["body"][0] == [run.pk]  # args: the run id, nothing more
    meta = result.backend.get_task_meta(result.id)
    texts = [json.dumps(published, default=str), json.dumps(meta, default=str), log.read_text()]
    assert f"run_sync[{run.task_id}]" in texts[2]
    assert_no_secret(texts, where="the broker message, the stored result or the worker log")
    assert_no_secret(database_texts(), where="a database row")


def _on_queue(apply_async, queue: str):
    def send(*args, **kwargs):
        return apply_async(*args, **{**kwargs, "queue": queue})

    return send


# --------------------------------------------------------------------------- error e-mails


@pytest.fixture
def crashing_setup(monkeypatch) -> None:
    def crash(**kwargs):
        raise RuntimeError("the database fell over while saving the integration")

    monkeypatch.setattr("integrations.web.integrations.integration_save", crash)


@pytest.mark.django_db
def test_the_error_email_of_a_crash_while_posting_a_secret_hides_it(
    group_a, admin_a, secret_sandbox, settings, crashing_setup
):
    """A 500 while the form posts a secret mails the admins a report without that secret."""
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    url = reverse("integrations:provider", args=[group_a.slug, "udemy"])
    response = client.post(url, form_data(secret_sandbox, SECRET))
    assert response.status_code == 500
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert "the database fell over" in email.body  # the report really is about this crash
    texts = [email.subject, email.body, *(content for content, _ in email.alternatives)]
    assert_no_secret(texts, where="the error e-mail")
