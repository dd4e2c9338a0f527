"""`manage.py sandbox learnupon|coursebase`: the demo's platform sandboxes, served in the
foreground until SIGTERM, and their data counts in `/_sandbox/state`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from integrations.sandboxes.coursebase import CoursebaseSandbox
from integrations.sandboxes.learnupon import LearnUponSandbox

ROOT = Path(__file__).resolve().parents[2]


def test_each_platform_sandbox_counts_its_data_in_its_state(
    learnupon_sandbox: LearnUponSandbox, coursebase_sandbox: CoursebaseSandbox
):
    lu = learnupon_sandbox.state()
    assert (lu["users"], lu["groups"], lu["courses"], lu["enrollments"]) == (61, 4, 0, 0)
    cb = coursebase_sandbox.state()
    assert (cb["users"], cb["groups"]) == (60, len(coursebase_sandbox.data.groups))


def _learnupon_groups(url: str) -> requests.Response:
    return requests.get(f"{url}/api/v1/groups", auth=("lu-api-user", "lu-api-password"), timeout=5)


def _coursebase_users(url: str) -> requests.Response:
    token = {"Authorization": "Bearer cb-demo-token"}
    return requests.post(f"{url}/api/org.users.list", json={}, headers=token, timeout=5)


@pytest.mark.parametrize(
    ("kind", "api_call"), [("learnupon", _learnupon_groups), ("coursebase", _coursebase_users)]
)
def test_the_sandbox_command_serves_a_platform_until_sigterm(kind, api_call):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", kind, "--port", str(port), "--users", "7"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_ENV": "test", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = _line_with("sandbox on", proc.stdout)  # printed once the sandbox listens
        assert f"sandbox on http://127.0.0.1:{port}" in ready, ready + proc.stdout.read()
        state = requests.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=5).json()
        assert state["users"] == 7 + (kind == "learnupon")  # LearnUpon's portal has its admin
        assert api_call(f"http://127.0.0.1:{port}").status_code == 200
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "sandbox stopped." in output


def _line_with(words: str, lines) -> str:
    """The first line holding `words` (log lines may come first); "" once the output ends."""
    return next((line for line in lines if words in line), "")
