"""Serve a deterministic `UdemySandbox` on a free loopback port, in its own process.

Prints one JSON line ({"port", "courses", "learning_paths", "activity", "learner_emails_path"})
once it listens, then serves until SIGTERM or until its standard input closes (the parent died).
No Django apps (the settings only, which bench/common.child_env names): the sandbox is plain
Python.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import CLIENT_ID, CLIENT_SECRET, ORG_ID, ORG_NAME  # noqa: E402
from integrations.sandboxes.udemy import UdemySandbox  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, required=True)
    parser.add_argument("--paths", type=int, default=0)
    parser.add_argument("--learners", type=int, default=0)
    parser.add_argument("--activity-per-learner", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--emails-out", required=True)
    opts = parser.parse_args()
    sandbox = UdemySandbox.generate(
        seed=opts.seed,
        courses=opts.courses,
        paths=opts.paths,
        learners=opts.learners,
        activity_per_learner=opts.activity_per_learner,
        organization_name=ORG_NAME,
        organization_id=ORG_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        latency=opts.latency,
        host="127.0.0.1",
        port=0,
    )
    Path(opts.emails_out).write_text(json.dumps(sandbox.data.learner_emails))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    sandbox.serve_until(stop, lambda state: announce(sandbox.port, state, opts.emails_out))


def announce(port: int, state: dict, emails_path: str) -> None:
    summary = {key: state[key] for key in ("courses", "learning_paths", "activity")}
    print(json.dumps({"port": port, **summary, "learner_emails_path": emails_path}), flush=True)


if __name__ == "__main__":
    main()
