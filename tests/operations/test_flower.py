"""`make flower` (scripts/flower.py): Flower behind basic auth from FLOWER_BASIC_AUTH, never
without it, following a real worker on the configured broker (the embedded file broker too)."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.celery_worker import ROOT, stop_process, subprocess_env, wait_for

SCRIPT = str(ROOT / "scripts" / "flower.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("credentials", ["", "admin", "admin:", ":password", "ops:pw,other"])
def test_flower_does_not_start_without_a_user_and_a_password(credentials):
    result = subprocess.run(
        [sys.executable, SCRIPT],
        cwd=ROOT,
        env={**subprocess_env(), "FLOWER_BASIC_AUTH": credentials},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr


def _get(url: str, auth: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", f"Basic {base64.b64encode(auth.encode()).decode()}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:
        return 0, b""


@pytest.mark.celery_worker
@pytest.mark.slow
def test_flower_asks_for_its_credentials_and_lists_the_running_worker(
    celery_worker_process, worker_queue, tmp_path
):
    port, auth = _free_port(), "ops:flower-Pass-42"
    log = tmp_path / "flower.log"
    env = {**subprocess_env(), "FLOWER_BASIC_AUTH": auth, "FLOWER_PORT": str(port)}
    with log.open("w") as out:
        flower = subprocess.Popen(
            [sys.executable, SCRIPT],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _get(base)[0] != 0, timeout=60, message="Flower listening")
        assert _get(base)[0] == 401
        assert _get(base, "ops:wrong")[0] == 401

        def worker_listed() -> bool:
            status, body = _get(f"{base}/api/workers?refresh=1", auth)
            return status == 200 and any(name.startswith(worker_queue) for name in json.loads(body))

        wait_for(worker_listed, timeout=60, interval=1, message="the worker in Flower")
        # Flower replaced the script (same process); the password is not on its command line.
        cmdline = Path(f"/proc/{flower.pid}/cmdline").read_bytes().replace(b"\0", b" ")
        assert b"flower" in cmdline and b"flower-Pass-42" not in cmdline
    finally:
        stop_process(flower)


@pytest.mark.slow
def test_flower_metrics_ask_for_the_same_credentials(tmp_path):
    """Flower's own Prometheus endpoint names the workers and counts their tasks: it sits behind
    the same basic auth as the rest of Flower (Flower itself leaves it open)."""
    port, auth = _free_port(), "ops:flower-Pass-42"
    log = tmp_path / "flower.log"
    env = {**subprocess_env(), "FLOWER_BASIC_AUTH": auth, "FLOWER_PORT": str(port)}
    with log.open("w") as out:
        flower = subprocess.Popen(
            [sys.executable, SCRIPT],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _get(base)[0] != 0, timeout=60, message="Flower listening")
        assert _get(f"{base}/metrics")[0] == 401
        assert _get(f"{base}/metrics", "ops:wrong")[0] == 401
        status, body = _get(f"{base}/metrics", auth)
        assert status == 200 and b"flower_" in body
    finally:
        stop_process(flower)
