"""`make flower`: Celery's Flower on http://127.0.0.1:5555/, on the broker the settings name (the
embedded file broker by default, which Flower can follow: workers and tasks are listed, events
flow), behind basic auth.

The credentials come from FLOWER_BASIC_AUTH=user:password (in .env or the environment; several
users: comma-separated) and stay in the environment, where Flower reads them (never on a command
line that `ps` shows). There is no default: without them this exits non-zero. FLOWER_PORT picks
another port.
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


def main() -> int:
    environ.Env.read_env(ROOT / ".env", overwrite=False)
    if problem := credentials_problem(os.environ.get("FLOWER_BASIC_AUTH", "")):
        print(problem, file=sys.stderr)
        return 2
    celery = shutil.which("celery", path=str(Path(sys.executable).parent))
    try:
        import flower  # noqa: F401
    except ImportError:
        celery = None
    if celery is None:
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
    os.execv(celery, [celery, "-A", "lmsbridge", "flower", "--address=127.0.0.1"])  # noqa: S606
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main())
