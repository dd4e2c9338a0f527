"""LMS Bridge benchmark harness (issue "[9] Benchmarks").

    .venv/bin/python bench/run.py [--quick] [--only NAME[,NAME]] [--backend default|sqlite|pg|both]

Each measurement runs in a child process of its own (`--child NAME`), on a database created empty
for it (SQLite: a file in LMSBRIDGE_VAR_DIR; PostgreSQL: the database of --pg-url, dropped and
created again, whose name must contain "bench"), migrated with `call_command("migrate")`, against
the Udemy sandbox served by another process on loopback with a per-request latency.

Full runs write bench/results.json, docs/benchmarks/sync_vs_floor.png and the tables of
BENCHMARKS.md (between its `results` markers); --quick runs (small sizes, to check the harness)
write into the var dir instead, so they never replace full results.
With --only, the sections measured replace theirs in the existing results file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    child_env,
    load_average,
    log,
    max_rss_kib,
    pg_reachable,
)

RESULTS = ROOT / "bench" / "results.json"
PLOT = ROOT / "docs" / "benchmarks" / "sync_vs_floor.png"
MARKDOWN = ROOT / "BENCHMARKS.md"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/lmsbridge_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"  # its own Redis db: no crosstalk with other workers

FULL = {
    # The headline ratios at 10,000 courses (+200 paths), `reps` runs; the smaller sizes draw the
    # time-vs-size curve with `curve_reps` runs each.
    "content": {
        "sizes": [1_000, 2_500, 5_000, 10_000],
        "latency": 0.05,
        "reps": 3,
        "curve_reps": 1,
    },
    "stats": {
        "courses": 10_000,
        "learners": 20_000,
        "activity_per_learner": 5,
        "latency": 0.05,
        "reps": 2,
        "floor_sample": 200,  # pages of the floor measured, then scaled to the whole report
        "resync": False,  # the re-sync of 100,000 rows is one more minute: counts covers it
    },
    "counts": {"sizes": [1_000, 10_000, 50_000]},
    "memory": {"sizes": [5_000, 50_000]},
    "naive": {"courses": 10_000, "paths": 200, "latency": 0.05},
    "console": {
        "courses": 50_000,
        "attempts": 200_000,
        "learners": 10_000,
        "errors": 2_000,
        "requests": 25,
        "warmup": 3,
    },
    "scaleout": {
        "integrations": 8,
        "courses": 2_000,
        "latency": 0.05,
        "workers": [1, 2, 4],
        "reps": 2,
    },
    "scale": {
        "courses": 20_000,
        "paths": 200,
        "learners": 20_000,
        "activity_per_learner": 5,
        "latency": 0.1,
        "k": 4,
        "stats_floor_sample": 150,  # pages of the 100 ms activity floor measured, then scaled
        "rate_limit": 20,
        "project_courses": 30_000,
        "project_rows": 1_000_000,
        "project_latencies": [0.3, 0.5, 1.0],
    },
}
QUICK = {
    "content": {"sizes": [500, 2_000], "latency": 0.05, "reps": 2, "curve_reps": 1},
    "stats": {
        "courses": 1_000,
        "learners": 2_000,
        "activity_per_learner": 5,
        "latency": 0.05,
        "reps": 1,
    },
    "counts": {"sizes": [500, 2_000]},
    "memory": {"sizes": [1_000, 5_000]},
    "naive": {"courses": 1_000, "paths": 20, "latency": 0.05},
    "console": {
        "courses": 5_000,
        "attempts": 20_000,
        "learners": 1_000,
        "errors": 200,
        "requests": 10,
        "warmup": 2,
    },
    "scaleout": {"integrations": 4, "courses": 500, "latency": 0.05, "workers": [1, 2]},
    "scale": {
        "courses": 2_000,
        "paths": 20,
        "learners": 2_000,
        "activity_per_learner": 5,
        "latency": 0.1,
        "k": 4,
        "stats_floor_sample": 30,
        "rate_limit": 20,
        "project_courses": 30_000,
        "project_rows": 1_000_000,
        "project_latencies": [0.3, 0.5, 1.0],
    },
}
# Where each section runs by default: PostgreSQL (production) first. A section measured on
# PostgreSQL only runs on SQLite instead when no PostgreSQL is reachable (scale-out needs it).
# `--backend both` runs every section on both databases (about twice as long).
BACKENDS = {
    "content": ("sqlite", "pg"),
    "stats": ("pg",),
    "counts": ("pg",),
    "memory": ("sqlite",),
    "naive": ("pg",),
    "console": ("pg",),
    "scaleout": ("pg",),
    "scale": ("pg",),
}
NEEDS_PG = {"scaleout"}
CHILD_TIMEOUT = 3600


# --------------------------------------------------------------------------- machine


def machine() -> dict:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    import django

    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu_model": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
    }


# --------------------------------------------------------------------------- child side


def child_main(section: str, params: dict, out: Path) -> None:
    from bench.common import db_description, setup_django

    load_before = load_average()
    started = time.perf_counter()
    setup_django(fresh=True)
    from bench.scenarios import SCENARIOS

    result = SCENARIOS[section](params)
    result["meta"] = {
        "database": db_description(),
        "load_before": load_before,
        "load_after": load_average(),
        "child_seconds": round(time.perf_counter() - started, 1),
        "child_max_rss_kib": max_rss_kib(),
    }
    out.write_text(json.dumps(result, indent=2, default=str))


# --------------------------------------------------------------------------- orchestrator


def run_child(
    section: str, backend: str, params: dict, *, opts: argparse.Namespace, tag: str = ""
) -> dict:
    var_dir = Path(opts.var_dir)
    out = var_dir / f"child-{section}-{backend}{tag}.json"
    out.unlink(missing_ok=True)
    env = child_env(
        backend=backend,
        var_dir=var_dir,
        db_name=f"{section}{tag}",
        pg_url=opts.pg_url,
        broker=opts.redis_url if section == "scaleout" else "",
    )
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        section,
        "--params",
        json.dumps(params),
        "--out",
        str(out),
    ]
    log(f"{section} on {backend} {params} (load {load_average()})")
    started = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, timeout=CHILD_TIMEOUT)  # noqa: S603
    result = json.loads(out.read_text())
    log(f"{section} on {backend}: done in {time.perf_counter() - started:.0f}s")
    return result


def memory_section(backend: str, params: dict, opts: argparse.Namespace) -> dict:
    sizes = [
        run_child("memory", backend, {"size": size}, opts=opts, tag=f"-{size}")
        for size in params["sizes"]
    ]
    small, large = sizes[0], sizes[-1]
    out = {"params": params, "sizes": sizes}
    out["tracemalloc_peak_ratio"] = round(
        large["tracemalloc_peak_bytes"] / small["tracemalloc_peak_bytes"], 3
    )
    if small.get("rss_growth_kib") and large.get("rss_growth_kib"):
        out["rss_growth_ratio"] = round(large["rss_growth_kib"] / small["rss_growth_kib"], 3)
        out["peak_rss_ratio"] = round(
            large["peak_rss_during_sync_kib"] / small["peak_rss_during_sync_kib"], 3
        )
    out["target"] = 1.5
    out["met"] = out["tracemalloc_peak_ratio"] <= 1.5
    return out


def section_backends(section: str, wanted: str, pg_ok: bool) -> list[str]:
    if wanted == "both":
        backends = ["sqlite", "pg"] if section not in NEEDS_PG else ["pg"]
    elif wanted == "default":
        backends = list(BACKENDS[section])
    else:
        backends = [wanted] if section not in NEEDS_PG or wanted == "pg" else []
    if not pg_ok:
        backends = [] if section in NEEDS_PG else ["sqlite"] if "pg" in backends else backends
    return sorted(set(backends), key=backends.index)


def orchestrate(opts: argparse.Namespace) -> int:
    started = time.perf_counter()
    plan = QUICK if opts.quick else FULL
    only = [s.strip() for s in opts.only.split(",")] if opts.only else list(plan)
    unknown = set(only) - set(plan)
    if unknown:
        raise SystemExit(f"unknown section(s) {sorted(unknown)}; choose from {list(plan)}")
    var_dir = Path(opts.var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    results_path = (
        Path(opts.results)
        if opts.results
        else (var_dir / "results-quick.json" if opts.quick else RESULTS)
    )
    plot_path = var_dir / "sync_vs_floor-quick.png" if opts.quick else PLOT
    # A partial run (--only) replaces its sections in the existing file; a whole run starts anew.
    keep = opts.only and results_path.exists()
    results = json.loads(results_path.read_text()) if keep else {}
    results.setdefault("meta", {})
    results["meta"]["machine"] = machine()
    pg_ok = pg_reachable(opts.pg_url)
    if not pg_ok:
        log(
            f"PostgreSQL at {opts.pg_url} is not reachable: its sections run on SQLite, "
            "scale-out is skipped"
        )
    failures = []
    for section in only:
        for backend in section_backends(section, opts.backend, pg_ok):
            try:
                if section == "memory":
                    result = memory_section(backend, plan[section], opts)
                else:
                    result = run_child(section, backend, plan[section], opts=opts)
            except (subprocess.SubprocessError, OSError, ValueError) as exc:
                log(f"{section} on {backend} FAILED: {exc}")
                failures.append(f"{section}/{backend}")
                continue
            result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
            result["quick"] = opts.quick
            results.setdefault(section, {})[backend] = result
            results_path.parent.mkdir(parents=True, exist_ok=True)
            results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    try:
        from bench.plot import plot

        plot(results, plot_path)
        log(f"plot written to {plot_path}")
    except ImportError as exc:
        log(f"no plot ({exc}): install the bench extra, pip install -e '.[bench]'")
    from bench.report import report, write_markdown

    results["meta"]["finished_at"] = time.strftime("%Y-%m-%d %H:%M %Z")
    results["meta"]["total_seconds"] = round(time.perf_counter() - started, 1)
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report(results))
    if not opts.quick and not opts.only and not opts.results:
        write_markdown(MARKDOWN, results)
        log(f"tables written to {MARKDOWN}")
    log(f"results written to {results_path}")
    if failures:
        log(f"failed sections: {failures}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the harness")
    parser.add_argument("--only", default="", help="comma-separated sections: " + ", ".join(FULL))
    parser.add_argument(
        "--backend",
        choices=("default", "sqlite", "pg", "both"),
        default="default",
        help="default: each section on the database(s) of BACKENDS",
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument(
        "--var-dir",
        default=os.environ.get("LMSBRIDGE_VAR_DIR", str(ROOT / "var" / "bench")),
    )
    parser.add_argument("--results", default="", help="results file (default: see above)")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child_main(opts.child, json.loads(opts.params), Path(opts.out))
        return 0
    return orchestrate(opts)


if __name__ == "__main__":
    sys.exit(main())
