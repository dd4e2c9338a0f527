"""Structured logs: with LOG_FORMAT=json each record is one JSON line; the lines of a run carry
its ids (run, integration, group, provider, kind), whichever thread of the run logged them; no
line carries a secret, in any of its forms."""

from __future__ import annotations

import base64
import io
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from integrations.core.logs import JsonFormatter, RunContextFilter, run_log_context
from integrations.models import SyncRun
from tests.celery_worker import ROOT, subprocess_env

from .conftest import SANDBOX_SECRET


def secret_forms(secret: str) -> list[str]:
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        secret.replace("/", "\\/"),
    ]


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue  # Celery's start-up banner is printed, not logged
        if isinstance(parsed, dict):
            lines.append(parsed)
    return lines


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_json_lines_of_a_sync_on_a_real_worker_carry_its_ids_and_no_secret(
    sandbox, integration, run_on_worker, tmp_path: Path
):
    # A 429 makes the client log a warning from the thread that prefetches the pages.
    sandbox.fail(path_contains="courses", status=429, retry_after=1, times=1)

    run = run_on_worker(integration, LOG_FORMAT="json", LOG_LEVEL="DEBUG")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    text = (tmp_path / "worker.log").read_text()
    lines = json_lines(text)
    assert len(lines) > 10, text[-2000:]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    ids = {
        "run_id": run.pk,
        "integration_id": integration.pk,
        "group": "operations",
        "provider": "udemy",
        "kind": "content",
    }
    of_the_run = [line for line in lines if line.get("run_id") == run.pk]
    assert of_the_run, "no line carries the run's id"
    for line in of_the_run:
        assert {k: line.get(k) for k in ids} == ids, line
    messages = [line["message"] for line in of_the_run]
    assert f"run {run.pk} started: content, manual" in messages
    assert any(m.startswith(f"run {run.pk} ended succeeded in ") for m in messages), messages
    throttled = [line for line in of_the_run if "429" in line["message"]]
    assert throttled, "the 429 warning of the prefetch thread lacks the run's ids"
    assert throttled[0]["level"] == "WARNING"
    assert throttled[0]["logger"] == "integrations.core.http"
    # Celery's own lines about the task are JSON too (logged outside the run: no run id).
    assert any("succeeded" in line["message"] and "run_id" not in line for line in lines)

    basic = base64.b64encode(f"{integration.client_id}:{SANDBOX_SECRET}".encode()).decode()
    for needle in [*secret_forms(SANDBOX_SECRET), basic]:
        assert needle not in text, f"the worker's log holds {needle!r}"


def test_a_line_logged_in_a_run_has_its_fields_and_hides_its_secrets():
    """The formatter and the filter alone: every form of the secret a line may hold (message,
    argument, extra field, traceback) comes out hidden."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RunContextFilter())
    logger = logging.getLogger("tests.operations.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    fields = {
        "run_id": 7,
        "integration_id": 3,
        "group": "sales",
        "provider": "udemy",
        "kind": "stats",
    }
    try:
        logger.info("outside any run")
        with run_log_context(fields, secrets=(SANDBOX_SECRET,)):
            logger.warning("verbatim %s", SANDBOX_SECRET)
            logger.warning(
                "quoted %s and %s", quote(SANDBOX_SECRET, safe=""), quote_plus(SANDBOX_SECRET)
            )
            logger.warning("in an extra field", extra={"detail": {"secret": SANDBOX_SECRET}})
            logger.warning("a URL redis://:hunter2-password@cache:6379/0")
            logger.warning("a header Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345")
            try:
                raise RuntimeError(f"failed with {SANDBOX_SECRET}")
            except RuntimeError:
                logger.exception("with a traceback")
            helper = threading.Thread(target=lambda: logger.warning("from a helper thread"))
            helper.start()
            helper.join()
        logger.info("after the run")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 9
    outside, *inside, after = lines
    assert "run_id" not in outside and "run_id" not in after
    for line in inside:
        assert {k: line[k] for k in fields} == fields, line
    assert inside[0]["message"] == "verbatim [hidden]"
    assert "[hidden]" in inside[2]["detail"]["secret"]
    assert "hunter2" not in text and "redis://cache:6379/0" in inside[3]["message"]
    assert "abcdefghijklmnop" not in text
    assert "RuntimeError" in inside[5]["exc_info"] and "[hidden]" in inside[5]["exc_info"]
    assert inside[6]["message"] == "from a helper thread"
    for needle in secret_forms(SANDBOX_SECRET):
        assert needle not in text, needle


def test_two_runs_at_once_keep_their_own_fields():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(message)s"))
    handler.addFilter(RunContextFilter())
    logger = logging.getLogger("tests.operations.two_runs")
    logger.addHandler(handler)
    logger.propagate = False
    barrier = threading.Barrier(2)

    def run(run_id: int) -> None:
        with run_log_context({"run_id": run_id}):
            barrier.wait()
            logger.warning("run %s", run_id)
            barrier.wait()

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert sorted((line["message"], line["run_id"]) for line in lines) == [
        ("run 1", 1),
        ("run 2", 2),
    ]


@pytest.mark.parametrize(("log_format", "is_json"), [("json", True), ("plain", False)])
def test_log_format_picks_the_formatter_of_the_settings(log_format, is_json):
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('integrations.check').warning('hello %s', 'there')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**subprocess_env(), "LOG_FORMAT": log_format},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "hello there" in line]
    if is_json:
        parsed = json.loads(line)
        assert parsed["message"] == "hello there"
        assert (parsed["level"], parsed["logger"]) == ("WARNING", "integrations.check")
    else:
        assert line.endswith("WARNING integrations.check hello there")


def test_an_unknown_log_format_is_refused():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**subprocess_env(), "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr
