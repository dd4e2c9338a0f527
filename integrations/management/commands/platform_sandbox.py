"""Run a fake learning platform (LearnUpon or Coursebase) in the foreground, for the demo.

    manage.py platform_sandbox learnupon --port 8002
    manage.py platform_sandbox coursebase --port 8003

Demo credentials are the sandboxes' public defaults (seed_demo wires connections to them). The
control endpoints answer loopback clients only: keep the default `--host 127.0.0.1`.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from integrations.core.netutil import is_loopback_host
from integrations.core.sandbox import SandboxServer


def build(kind: str, *, host: str, port: int, seed: int, users: int) -> SandboxServer:
    """The demo sandbox of `kind` (not started)."""
    if kind == "learnupon":
        from integrations.platforms.learnupon.sandbox import LearnUponData, LearnUponSandbox

        return LearnUponSandbox(
            LearnUponData.generate(seed=seed, users=users), host=host, port=port
        )
    from integrations.platforms.coursebase.sandbox import CoursebaseData, CoursebaseSandbox

    return CoursebaseSandbox(CoursebaseData.generate(seed=seed, users=users), host=host, port=port)


class Command(BaseCommand):
    help = "Serve a deterministic fake LearnUpon or Coursebase API on loopback (the demo)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["learnupon", "coursebase"])
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--users", type=int, default=60)

    def handle(self, *args: Any, kind: str, **opts: Any) -> None:
        sandbox = build(
            kind, host=opts["host"], port=opts["port"], seed=opts["seed"], users=opts["users"]
        )
        if not is_loopback_host(opts["host"]):
            self.stderr.write("Warning: the sandbox is not on loopback; never expose it publicly.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # honcho stops with SIGTERM

        def announce(state: dict[str, Any]) -> None:
            self.stdout.write(self.style.SUCCESS(f"{kind} sandbox on {sandbox.url}: {state}"))
            self.stdout.flush()

        sandbox.serve_until(stop, announce)
        self.stdout.write(f"{kind} sandbox stopped.")
