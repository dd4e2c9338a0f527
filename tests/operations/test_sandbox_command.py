"""`manage.py sandbox udemy|learnupon|coursebase` (Procfile.dev's sandboxes): served in the
foreground until SIGTERM, each answering its API and counting its data in `/_sandbox/state`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from integrations.sandboxes.coursebase import CoursebaseData, CoursebaseSandbox
from integrations.sandboxes.learnupon import LearnUponData, LearnUponSandbox

ROOT = Path(__file__).resolve().parents[2]
UDEMY = ["--courses", "40", "--paths", "3", "--learners", "5", "--org-id", "77"]


def test_each_platform_sandbox_counts_its_data_in_its_state():
    lu = LearnUponSandbox(LearnUponData.generate(users=9, groups=3)).state()
    assert (lu["users"], lu["groups"], lu["courses"], lu["enrollments"]) == (10, 3, 0, 0)
    data = CoursebaseData.generate(users=9, departments=2, teams=2)
    cb = CoursebaseSandbox(data).state()
    assert (cb["users"], cb["groups"]) == (9, 1 + 2 + 2 * 2)  # the org, departments, teams


def _udemy_courses(url: str) -> requests.Response:
    auth = ("demo-client", "demo-secret")
    return requests.get(f"{url}/api-2.0/organizations/77/courses/list/", auth=auth, timeout=5)


def _learnupon_groups(url: str) -> requests.Response:
    return requests.get(f"{url}/api/v1/groups", auth=("lu-api-user", "lu-api-password"), timeout=5)


def _coursebase_users(url: str) -> requests.Response:
    token = {"Authorization": "Bearer cb-demo-token"}
    return requests.post(f"{url}/api/org.users.list", json={}, headers=token, timeout=5)


@pytest.mark.parametrize(
    ("kind", "args", "counts", "api_call"),
    [
        ("udemy", UDEMY, {"courses": 40, "learning_paths": 3}, _udemy_courses),
        ("learnupon", ["--users", "7"], {"users": 8}, _learnupon_groups),  # + the portal's admin
        ("coursebase", ["--users", "7"], {"users": 7}, _coursebase_users),
    ],
)
def test_the_sandbox_command_serves_until_sigterm(kind, args, counts, api_call):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", kind, "--port", str(port), *args],
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
        assert {key: state[key] for key in counts} == counts
        assert api_call(f"http://127.0.0.1:{port}").status_code == 200
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "sandbox stopped." in output


def _line_with(words: str, lines) -> str:
    """The first line holding `words` (log lines may come first); "" once the output ends."""
    return next((line for line in lines if words in line), "")
