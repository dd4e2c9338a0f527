"""Run a fake upstream API (`integrations.sandboxes`) in the foreground, for the demo.

    manage.py sandbox udemy --port 8001 --courses 300 --paths 12 --learners 60 --seed 1
    manage.py sandbox learnupon --port 8002
    manage.py sandbox coursebase --port 8003

Udemy: with `--xapi` (credentials from the var dir's `xapi-demo.json`, what `manage.py seed_demo`
writes) or `--xapi-credentials <file>` it also plays Udemy Business's xAPI push: `--xapi-batch`
learners progress every `--xapi-interval` seconds and their statements are POSTed to the
product's door (`sandboxes.udemy.xapi_sender`). LearnUpon and Coursebase: the demo credentials
are the sandboxes' public defaults (seed_demo wires connections to them).

The control endpoints (`/_sandbox/state`, `/_sandbox/scenario`) are unauthenticated and answer
loopback clients only: keep the default `--host 127.0.0.1`.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from integrations.core.netutil import is_loopback_host
from integrations.sandboxes.base import SandboxServer
from integrations.sandboxes.coursebase import CoursebaseSandbox
from integrations.sandboxes.learnupon import LearnUponSandbox
from integrations.sandboxes.udemy import UdemySandbox
from integrations.sandboxes.udemy.xapi_sender import XapiUdemySandbox

from .seed_demo import XAPI_FILE

PORTS = {"udemy": 8001, "learnupon": 8002, "coursebase": 8003}  # Procfile.dev's


class Command(BaseCommand):
    help = "Serve a deterministic fake Udemy, LearnUpon or Coursebase API on loopback (the demo)."
    # A sandbox needs no database: start even while another app's checks are failing.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True)
        for kind, port in PORTS.items():
            sub = kinds.add_parser(kind, help=f"the fake {kind} API")
            sub.add_argument("--host", default="127.0.0.1")
            sub.add_argument("--port", type=int, default=port)
            sub.add_argument("--seed", type=int, default=1)
            sub.add_argument("--latency-ms", type=float, default=0.0)
            if kind == "udemy":
                _udemy_arguments(sub)
            else:
                sub.add_argument("--users", type=int, default=60)

    def handle(self, *args: Any, kind: str, **opts: Any) -> None:
        if not is_loopback_host(opts["host"]):
            self.stderr.write("Warning: the sandbox is not on loopback; never expose it publicly.")
        if kind != "udemy":
            self._serve(kind, _platform(kind, opts))
            return
        sandbox = _udemy(opts)
        if not isinstance(sandbox, XapiUdemySandbox):
            self._serve(kind, sandbox)
            return
        source = Path(opts["xapi_credentials"] or settings.VAR_DIR / XAPI_FILE)
        pump = sandbox.attach_pump(source, batch=opts["xapi_batch"], interval=opts["xapi_interval"])
        pump.start()
        self.stdout.write(f"xAPI push of the learners' progress, credentials from {source}.")
        try:
            self._serve(kind, sandbox)
        finally:
            pump.stop()

    def _serve(self, kind: str, sandbox: SandboxServer) -> None:
        stop = threading.Event()
        # honcho and docker stop with SIGTERM: shut the socket down cleanly instead of dying.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

        def announce(state: dict[str, Any]) -> None:
            self.stdout.write(self.style.SUCCESS(_ready_line(kind, sandbox, state)))
            self.stdout.flush()

        sandbox.serve_until(stop, announce)
        self.stdout.write(f"{_title(kind)} sandbox stopped.")


def _udemy_arguments(parser: CommandParser) -> None:
    parser.add_argument("--courses", type=int, default=300)
    parser.add_argument("--paths", type=int, default=12)
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--activity-per-learner", type=int, default=5)
    parser.add_argument("--client-id", default="demo-client")
    parser.add_argument("--client-secret", default="demo-secret")
    parser.add_argument("--org-name", default="demo")
    parser.add_argument("--org-id", default="4242")
    parser.add_argument(
        "--jitter-ms", type=float, default=0.0, help="Random extra latency, 0 to this."
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate,
        default=0.0,
        help="Requests per second the API accepts (e.g. 20 or 20/s); beyond: 429 + "
        "Retry-After. 0: no limit.",
    )
    parser.add_argument(
        "--burst", type=int, default=None, help="Requests at once (default: one second's)."
    )
    parser.add_argument(
        "--ratio-scale",
        choices=["0-100", "0-1"],
        default="0-100",
        help="Scale of the report's completion_ratio (0-1: fractions).",
    )
    parser.add_argument(
        "--xapi", action="store_true", help="Push xAPI statements with seed_demo's credentials."
    )
    parser.add_argument(
        "--xapi-credentials",
        default="",
        help="JSON file of the xAPI door's URLs and client credentials (seed_demo writes "
        "var/xapi-demo.json): push the learners' progress there. Empty: no push.",
    )
    parser.add_argument("--xapi-batch", type=int, default=5, help="Learners moving per batch.")
    parser.add_argument("--xapi-interval", type=float, default=10.0, help="Seconds between.")


def _udemy(opts: dict[str, Any]) -> UdemySandbox:
    """The Udemy sandbox of the options (not started); with the xAPI push when asked for."""
    pushes = opts["xapi"] or opts["xapi_credentials"]
    return (XapiUdemySandbox if pushes else UdemySandbox).generate(
        seed=opts["seed"],
        courses=opts["courses"],
        paths=opts["paths"],
        learners=opts["learners"],
        activity_per_learner=opts["activity_per_learner"],
        ratio_scale=opts["ratio_scale"],
        organization_name=opts["org_name"],
        organization_id=opts["org_id"],
        client_id=opts["client_id"],
        client_secret=opts["client_secret"],
        latency=opts["latency_ms"] / 1000,
        jitter=opts["jitter_ms"] / 1000,
        rate_limit=opts["rate_limit"],
        burst=opts["burst"],
        host=opts["host"],
        port=opts["port"],
    )


def _platform(kind: str, opts: dict[str, Any]) -> SandboxServer:
    """The LearnUpon or Coursebase sandbox of the options (not started)."""
    sandbox = {"learnupon": LearnUponSandbox, "coursebase": CoursebaseSandbox}[kind]
    return sandbox.generate(
        seed=opts["seed"],
        users=opts["users"],
        latency=opts["latency_ms"] / 1000,
        host=opts["host"],
        port=opts["port"],
    )


def _title(kind: str) -> str:
    return {"udemy": "Udemy", "learnupon": "LearnUpon", "coursebase": "Coursebase"}[kind]


def _ready_line(kind: str, sandbox: SandboxServer, state: dict[str, Any]) -> str:
    if isinstance(sandbox, UdemySandbox):
        return (
            f"Udemy sandbox on {sandbox.api_base_url} (client id {sandbox.client_id!r}): "
            f"{state['courses']} courses, {state['learning_paths']} learning paths, "
            f"{state['activity']} activity rows. Ctrl-C stops it."
        )
    return f"{_title(kind)} sandbox on {sandbox.url}: {state}"


def _rate(value: str) -> float:
    """ "20", "20/s" or "1200/min" → requests per second."""
    number, _, unit = value.strip().partition("/")
    per = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60}.get(unit.strip().lower())
    if per is None:
        raise ValueError(f"unknown rate unit {unit!r} (use /s or /min)")
    return float(number) / per
