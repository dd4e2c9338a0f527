"""cProfile of the main thread of one content (or stats) sync at latency 0: where the CPU goes.

    LMSBRIDGE_VAR_DIR=/tmp/var-bench .venv/bin/python bench/profile_sync.py [--courses 2000]
        [--kind content|resync|stats] [--backend sqlite|pg] [--pg-url URL] [--top 35]

The prefetch thread (fetch + mapping) is not profiled: cProfile follows the thread that starts it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import child_env, make_integration, sandbox_process, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=2000)
    parser.add_argument("--kind", choices=("content", "resync", "stats"), default="content")
    parser.add_argument("--backend", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/lmsbridge_bench")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--callers", default="", help="also print the callers of these functions")
    opts = parser.parse_args()
    var_dir = Path(os.environ.get("LMSBRIDGE_VAR_DIR", str(ROOT / "var" / "bench")))
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        child_env(backend=opts.backend, var_dir=var_dir, db_name="profile", pg_url=opts.pg_url)
    )
    setup_django(fresh=True)
    from bench.scenarios import add_learners, timed_sync

    with sandbox_process(
        var_dir=var_dir, courses=opts.courses, paths=opts.courses // 50, learners=opts.courses // 5
    ) as sandbox:
        add_learners(sandbox.learner_emails())
        warm = make_integration(sandbox, "profile-warm")
        timed_sync(warm)
        target = make_integration(sandbox, "profile")
        if opts.kind in ("resync", "stats"):
            timed_sync(target)
        kind = "stats" if opts.kind == "stats" else "content"
        profiler = cProfile.Profile()
        profiler.enable()
        result = timed_sync(target, kind)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats(opts.sort)
    stats.print_stats(opts.top)
    if opts.callers:
        stats.print_callers(opts.callers)
    print(f"{opts.kind} sync of {result['counts']} in {result['seconds']:.2f}s (profiled)")
    print(out.getvalue())


if __name__ == "__main__":
    main()
