"""An upstream that echoes the client secret *transformed* (cut, upper-cased, base64 of the secret
or of the Basic header, hex, spaced out, HTML entities, URL-quoted, JSON-escaped) must not get it
stored or shown: not in the run's summary, its error rows, any other row, the API, the run page,
nor the log lines (plain and JSON).

The check is independent of the scrubber: for each shape, no run of 6 characters of the shape
(any case) may appear anywhere."""

from __future__ import annotations

import json
import logging
from base64 import b64encode
from urllib.parse import quote

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from integrations.core.logs import JsonFormatter, PlainFormatter
from integrations.models import SyncError, SyncRun

from .test_secrets_never_echoed import LOGGERS, database_texts

CLIENT_ID = "demo-client"
SECRET = "Zq9XkRTmVw-7Kp2Wm4yB"
RUN = 6


def basic(secret: str = SECRET) -> str:
    return b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()


def spaced(secret: str = SECRET) -> str:
    return " ".join(secret)


def entities(secret: str = SECRET) -> str:
    return "".join(f"&#{ord(c)};" for c in secret)


def json_escaped(secret: str = SECRET) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in secret)


# What a careless upstream says back, one shape each.
ECHOES = {
    "truncated": f"Invalid Authorization header 'Basic {basic()[:30]}...' "
    f"(client secret {SECRET[:16]}... does not match)",
    "upper": f"bad secret {SECRET.upper()}",
    "base64-secret": f"token {b64encode(SECRET.encode()).decode()[:20]} refused",
    "base64-basic-offset": f"header ...{basic()[7:33]}... refused",
    "hex": f"secret hex {SECRET.encode().hex().upper()}",
    "spaced": f"secret: {spaced()}",
    "html-entities": f"secret was {entities()}",
    "url-quoted": f"secret={quote(SECRET, safe='').replace('-', '%2D')}",
    "json-escaped": f"secret {json_escaped()}",
}


def shapes() -> list[str]:
    return [
        SECRET,
        basic(),
        b64encode(SECRET.encode()).decode(),
        SECRET.encode().hex(),
        spaced(),
        entities(),
        quote(SECRET, safe="").replace("-", "%2D"),
        json_escaped(),
    ]


def assert_no_run_of_the_secret(texts, where: str) -> None:
    for text in texts:
        low = text.lower()
        for shape in shapes():
            shape = shape.lower()
            for i in range(len(shape) - RUN + 1):
                run = shape[i : i + RUN]
                assert run not in low, f"{run!r} (of {shape!r}) found in {where}: {text[:400]!r}"


@pytest.fixture
def all_logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def formatted_lines(caplog) -> list[str]:
    """The records as the worker writes them, plain and JSON (formatted after the run: the
    lines must be clean at the source, not only while the run's secrets are known)."""
    plain = PlainFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    as_json = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return [f.format(r) for r in caplog.records for f in (plain, as_json)]


@pytest.mark.django_db
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_a_transformed_echo_of_the_secret_is_stored_and_shown_nowhere(
    echo, make_udemy_sandbox, make_integration, run_sync, group_a, admin_a, all_logs, client
):
    sandbox = make_udemy_sandbox(client_id=CLIENT_ID, client_secret=SECRET)
    sandbox._fault_body = lambda fault: {"detail": ECHOES[echo]}
    sandbox.fail(status=401, times=5)
    integration = make_integration(sandbox, group=group_a, client_secret=SECRET)

    run = run_sync(integration)

    assert run.status == SyncRun.Status.FAILED
    assert SyncError.objects.filter(run=run, category="auth").exists()
    integration.refresh_from_db()
    api = APIClient()
    api.force_authenticate(admin_a)
    responses = [
        api.get(f"/api/v1/sync-runs/{run.pk}/").content.decode(),
        api.get(f"/api/v1/sync-runs/{run.pk}/errors/").content.decode(),
    ]
    client.force_login(admin_a)
    page = client.get(reverse("integrations:run", args=[group_a.slug, run.pk]))
    assert page.status_code == 200
    assert_no_run_of_the_secret([run.error_summary, integration.status_message], "the run")
    errors = [json.dumps([e.message, e.excerpt]) for e in SyncError.objects.filter(run=run)]
    assert_no_run_of_the_secret(errors, "an error row")
    assert_no_run_of_the_secret(database_texts(), "a database row")
    assert_no_run_of_the_secret(responses, "the API")
    assert_no_run_of_the_secret([page.content.decode()], "the run page")
    assert_no_run_of_the_secret(formatted_lines(all_logs), "a log line")


@pytest.mark.parametrize("error_status", [200, 400])
def test_a_platform_error_code_echoing_the_token_is_quoted_safely(
    make_coursebase_sandbox, error_status
):
    """Coursebase's envelope `error` (in a 200 as in a 4xx) goes into the message only as a
    bounded, single-line excerpt without the token in any shape nor a link."""
    from integrations.platforms.coursebase.client import CoursebaseClient

    sandbox = make_coursebase_sandbox()
    token = sandbox.credentials().token
    code = f"bad_token:{token[:10].upper()}\nvisit https://evil.example/login " + "x" * 500
    sandbox.fail(status=error_status, error_code=code)
    with pytest.raises(Exception) as caught:
        CoursebaseClient(sandbox.credentials(), sleep=lambda s: None).list_groups()
    message = caught.value.message
    assert "\n" not in message and "evil.example" not in message
    assert token[:6].lower() not in message.lower()
    assert len(message) < 300
