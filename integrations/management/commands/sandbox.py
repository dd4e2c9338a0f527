"""Run the fake Udemy Business API (integrations.providers.udemy.sandbox) in the foreground.

    manage.py udemy_sandbox --port 8001 --courses 300 --paths 12 --learners 60 --seed 1

With `--xapi` (credentials from the var dir's `xapi-demo.json`, what `manage.py seed_demo`
writes) or `--xapi-credentials <file>` it also plays
Udemy Business's xAPI push: `--xapi-batch` learners progress every `--xapi-interval` seconds and
their statements are POSTed to the product's door (`providers.udemy.sandbox.xapi_sender`).

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

from integrations.providers.udemy.client import is_loopback_host
from integrations.providers.udemy.sandbox import SandboxData, UdemySandbox
from integrations.providers.udemy.sandbox.xapi_sender import XapiUdemySandbox

from .seed_demo import XAPI_FILE


class Command(BaseCommand):
    help = "Serve a deterministic fake Udemy Business API on loopback (demo and browser tests)."
    # The sandbox needs no database: start even while another app's checks are failing.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--courses", type=int, default=300)
        parser.add_argument("--paths", type=int, default=12)
        parser.add_argument("--learners", type=int, default=60)
        parser.add_argument("--activity-per-learner", type=int, default=5)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--client-id", default="demo-client")
        parser.add_argument("--client-secret", default="demo-secret")
        parser.add_argument("--org-name", default="demo")
        parser.add_argument("--org-id", default="4242")
        parser.add_argument("--latency-ms", type=float, default=0.0)
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

    def handle(self, *args: Any, **opts: Any) -> None:
        data = SandboxData.generate(
            seed=opts["seed"],
            courses=opts["courses"],
            paths=opts["paths"],
            learners=opts["learners"],
            activity_per_learner=opts["activity_per_learner"],
            organization_name=opts["org_name"],
            ratio_scale=opts["ratio_scale"],
        )
        xapi = opts.get("xapi_credentials") or ""
        if opts.get("xapi") and not xapi:
            xapi = str(settings.VAR_DIR / XAPI_FILE)
        sandbox = (XapiUdemySandbox if xapi else UdemySandbox)(
            data,
            client_id=opts["client_id"],
            client_secret=opts["client_secret"],
            organization_name=opts["org_name"],
            organization_id=opts["org_id"],
            latency=opts["latency_ms"] / 1000,
            jitter=opts["jitter_ms"] / 1000,
            rate_limit=opts["rate_limit"],
            burst=opts["burst"],
            host=opts["host"],
            port=opts["port"],
        )
        if not is_loopback_host(opts["host"]):
            self.stderr.write("Warning: the sandbox is not on loopback; never expose it publicly.")
        if xapi:
            pump = sandbox.attach_pump(
                Path(xapi), batch=opts["xapi_batch"], interval=opts["xapi_interval"]
            )
            pump.start()
            self.stdout.write(f"xAPI push of the learners' progress, credentials from {xapi}.")
        try:
            self._serve(sandbox)
        finally:
            if xapi:
                pump.stop()

    def _serve(self, sandbox: UdemySandbox) -> None:
        stop = threading.Event()
        # honcho and docker stop with SIGTERM: shut the socket down cleanly instead of dying.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

        def announce(state: dict[str, Any]) -> None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Udemy sandbox on {sandbox.api_base_url} (client id {sandbox.client_id!r}): "
                    f"{state['courses']} courses, {state['learning_paths']} learning paths, "
                    f"{state['activity']} activity rows. Ctrl-C stops it."
                ),
            )
            self.stdout.flush()

        sandbox.serve_until(stop, announce)
        self.stdout.write("Udemy sandbox stopped.")


def _rate(value: str) -> float:
    """ "20", "20/s" or "1200/min" → requests per second."""
    number, _, unit = value.strip().partition("/")
    per = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60}.get(unit.strip().lower())
    if per is None:
        raise ValueError(f"unknown rate unit {unit!r} (use /s or /min)")
    return float(number) / per
