"""Promise: `make run` wires the demo's real-time statistics — `seed_demo` writes the demo
integration's xAPI credentials to the var dir (0600, the secret never printed) and keeps them
while that file names the current client; the Udemy sandbox started with them pushes
statements, and takes duplicates and late statements on demand through its control API."""

from __future__ import annotations

import io
import json
import stat
from datetime import date

import pytest
import requests
from django.core.management import call_command

from integrations.models import XapiClient
from integrations.sandboxes.udemy import UdemyData
from integrations.sandboxes.udemy.xapi_sender import XapiTarget, XapiUdemySandbox


@pytest.mark.django_db
def test_seed_demo_writes_the_credentials_once_readable_by_their_owner_only(
    tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "xapi-demo.json"
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", xapi_credentials=str(path), stdout=out)
    target = XapiTarget.read(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    client = XapiClient.objects.select_related("application", "integration").get()
    assert target.client_id == client.application.client_id
    assert target.statements_url.endswith(f"/xapi/integrations/{client.integration_id}/statements")
    assert target.token_url == "http://127.0.0.1:8000/xapi/oauth/token/"
    assert target.client_secret not in out.getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", xapi_credentials=str(path), stdout=io.StringIO())
    assert XapiTarget.read(path) == target  # kept: the same client, the same secret
    path.write_text(json.dumps({"client_id": "someone-else"}))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", xapi_credentials=str(path), stdout=io.StringIO())
    assert XapiTarget.read(path).client_id != target.client_id  # generated again


def test_the_sandbox_takes_duplicates_and_late_statements_on_demand(tmp_path):
    data = UdemyData.generate(seed=4, courses=10, paths=2, learners=3, today=date(2026, 12, 1))
    with XapiUdemySandbox(data) as sandbox:
        pump = sandbox.attach_pump(tmp_path / "absent.json", batch=2, interval=3600)
        answer = requests.post(
            f"{sandbox.url}/_sandbox/scenario",
            json={"xapi_duplicates": 3, "xapi_out_of_order": 2, "xapi_statements": 1},
            timeout=5,
        ).json()
        assert answer["xapi_queued"] == {"duplicates": 3, "out_of_order": 2, "statements": 1}
        state = requests.get(f"{sandbox.url}/_sandbox/state", timeout=5).json()
        assert state["xapi"] == {"credentials": False}  # waits for seed_demo's file
        assert pump.tick() == 0
