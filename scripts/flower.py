"""`make flower`: Celery's Flower on http://127.0.0.1:5555/, on the broker the settings name (the
embedded file broker by default, which Flower can follow: workers and tasks are listed, events
flow), behind basic auth.

The credentials come from FLOWER_BASIC_AUTH=user:password (in .env or the environment; several
users: comma-separated) and stay in the environment, where Flower reads them (never on a command
line that `ps` shows). There is no default: without them this exits non-zero. FLOWER_PORT picks
another port, FLOWER_ADDRESS another interface (the compose service listens on 0.0.0.0 inside its
container, published on the host's loopback only).

Flower leaves its own Prometheus endpoint, /metrics (worker names, task counts), open to anyone:
this launcher runs Flower in its own process with /metrics behind the same basic auth as every
other page. `docker compose --profile flower` starts Flower through it too.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import environ

ROOT = Path(__file__).resolve().parent.parent


def credentials_problem(value: str) -> str:
    """Why FLOWER_BASIC_AUTH can't protect Flower ('' when it can)."""
    if not value.strip():
        return "FLOWER_BASIC_AUTH is not set: put FLOWER_BASIC_AUTH=user:password in .env."
    for pair in value.split(","):
        user, _, password = pair.partition(":")
        if not user.strip() or not password:
            return "FLOWER_BASIC_AUTH must be user:password (comma-separated for several users)."
    return ""


def protect_metrics() -> None:
    """Put Flower's /metrics behind Flower's own authentication, like its other pages.

    Flower 2.x decorates its pages with `tornado.web.authenticated` but not `Metrics.get`; the
    same decorator makes it ask for the basic-auth credentials (401 without the right ones).
    """
    from flower.views.monitor import Metrics
    from tornado.web import authenticated

    if not getattr(Metrics.get, "_lmsbridge_authenticated", False):
        guarded = authenticated(Metrics.get)
        guarded._lmsbridge_authenticated = True  # type: ignore[attr-defined]
        Metrics.get = guarded  # type: ignore[method-assign]


def main() -> int:
    environ.Env.read_env(ROOT / ".env", overwrite=False)
    if problem := credentials_problem(os.environ.get("FLOWER_BASIC_AUTH", "")):
        print(problem, file=sys.stderr)
        return 2
    # This file is named flower.py: its folder, first on sys.path, would shadow the package.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != here]
    try:
        import flower.views.monitor  # noqa: F401
    except ImportError:
        print("Flower is not installed: pip install -e '.[flower]'", file=sys.stderr)
        return 2
    # Flower has Prometheus metrics of its own: kept out of the directory the site's processes
    # share (a scrape of /metrics adds up every file there).
    var_dir = Path(os.environ.get("LMSBRIDGE_VAR_DIR") or ROOT / "var")
    own = var_dir / "flower-metrics"
    shutil.rmtree(own, ignore_errors=True)
    own.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(own)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    protect_metrics()
    # `celery -A lmsbridge flower`, in this process (so that /metrics stays protected).
    from celery.bin.celery import main as celery_main

    address = os.environ.get("FLOWER_ADDRESS") or "127.0.0.1"
    sys.argv = ["celery", "-A", "lmsbridge", "flower", f"--address={address}"]
    celery_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
