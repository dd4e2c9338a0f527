"""Markdown tables from bench/results.json: printed by run.py, and written by a whole run
between the `results` markers of BENCHMARKS.md (the prose around them is kept).

.venv/bin/python bench/report.py [results.json] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}


def _ok(flag: bool | None) -> str:
    return "—" if flag is None else ("met" if flag else "**missed**")


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _floor_table(section: dict, title: str, target_c: bool) -> list[str]:
    lines = [
        f"#### {title}",
        "",
        "| database | a: fetch-only floor (s) | b: first sync (s) | c: re-sync (s) | b/a | c/a "
        "| target | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend, r in section.items():
        targets = ", ".join(f"{k.replace('_over_', '/')} ≤ {v}" for k, v in r["targets"].items())
        met = " ".join(f"{k.replace('_over_', '/')} {_ok(v)}" for k, v in r["met"].items())
        if not target_c:
            met += " (c/a: no target)"
        lines.append(
            f"| {NAMES[backend]} | {_s(r['floor']['median'])} | {_s(r['first_sync']['median'])} "
            f"| {_s((r['resync'] or {}).get('median'))} | **{r['b_over_a']:.2f}** "
            f"| **{_s(r['c_over_a'])}** "
            f"| {targets}: {met} | {len(r['floor']['runs'])} |"
        )
    return [*lines, ""]


def _size_table(section: dict) -> list[str]:
    lines = [
        "#### Content sync time vs catalog size (medians, seconds)",
        "",
        "| database | courses + paths | a: floor | b: first sync | c: re-sync | b/a | c/a |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, r in section.items():
        for row in r.get("sizes", []):
            lines.append(
                f"| {NAMES[backend]} | {row['courses']:,} + {row['paths']:,} "
                f"| {_s(row['floor']['median'])} | {_s(row['first_sync']['median'])} "
                f"| {_s(row['resync']['median'])} | {row['b_over_a']:.2f} | {row['c_over_a']:.2f} |"
            )
    return [*lines, ""]


START, END = "<!-- results:start -->", "<!-- results:end -->"


def machine_line(results: dict) -> str:
    m = results.get("meta", {}).get("machine", {})
    if not m:
        return ""
    return (
        f"Measured {results.get('meta', {}).get('finished_at', '')} on {m['nproc']} CPU(s) "
        f"({m['cpu_model']}), {m['memory_gib']} GiB RAM, Linux {m['kernel']}, Python "
        f"{m['python']}, Django {m['django']}; the whole run took "
        f"{results.get('meta', {}).get('total_seconds', 0) / 60:.1f} min."
    )


def write_markdown(path: Path, results: dict) -> None:
    """Replace the block between the markers of `path` with the latest tables."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = f"{text.rstrip()}\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    block = "\n".join([machine_line(results), "", report(results)]).strip()
    path.write_text(f"{head}{START}\n{block}\n{END}{tail}")


def report(results: dict) -> str:
    out: list[str] = []
    if "content" in results:
        r = next(iter(results["content"].values()))
        out += _floor_table(
            results["content"],
            f"Content sync: {r['courses']:,} courses + {r['paths']} learning paths, "
            f"latency {r['params']['latency'] * 1000:.0f} ms (medians)",
            True,
        )
        out += _size_table(results["content"])
    if "stats" in results:
        p = next(iter(results["stats"].values()))["params"]
        out += _floor_table(
            results["stats"],
            f"Statistics sync: {p.get('activity_rows', 0):,} activity rows "
            f"({p['learners']:,} learners × {p['activity_per_learner']} + anonymized), "
            f"latency {p['latency'] * 1000:.0f} ms (medians)",
            False,
        )
    if "counts" in results:
        out += [
            "#### Deterministic counts per 100 items (latency 0)",
            "",
            "| database | items | first sync: requests / statements | re-sync: requests / "
            "statements | stats sync: requests / statements | stats re-sync: requests / "
            "statements |",
            "|---|---|---|---|---|---|",
        ]
        for backend, r in results["counts"].items():
            for row in r["sizes"]:
                cells = [
                    f"{row[k]['requests_per_100']:.2f} / {row[k]['statements_per_100']:.2f}"
                    for k in ("first", "resync", "stats", "stats_resync")
                ]
                items = f"{row['first']['items']:,} / {row['stats']['items']:,}"
                out.append(f"| {NAMES[backend]} | {items} | " + " | ".join(cells) + " |")
        out += ["", "(items: content items / activity rows)", ""]
    if "memory" in results:
        out += [
            "#### Memory of one first content sync",
            "",
            "| database | items | tracemalloc peak (MiB) | RSS growth during the sync (MiB) "
            "| process peak RSS (MiB) |",
            "|---|---|---|---|---|",
        ]
        for backend, r in results["memory"].items():
            for row in r["sizes"]:
                growth = row.get("rss_growth_kib")
                out.append(
                    f"| {NAMES[backend]} | {row['items']:,} "
                    f"| {row['tracemalloc_peak_bytes'] / 2**20:.1f} "
                    f"| {'—' if growth is None else f'{growth / 1024:.1f}'} "
                    f"| {(row.get('peak_rss_during_sync_kib') or 0) / 1024:.0f} |"
                )
            out.append(
                f"| ratio | | **{r['tracemalloc_peak_ratio']:.2f}** (target ≤ 1.5: "
                f"{_ok(r['met'])}) | {r.get('rss_growth_ratio', '—')} "
                f"| {r.get('peak_rss_ratio', '—')} |"
            )
        out.append("")
    if "naive" in results:
        out += [
            "#### Bulk design vs naive per-item `update_or_create` (first sync)",
            "",
            "| database | items | floor (s) | bulk (s) | naive (s) | time ×  | bulk statements "
            "| naive statements | statements × |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for backend, r in results["naive"].items():
            items = r["bulk"]["counts"].get("fetched", 0)
            out.append(
                f"| {NAMES[backend]} | {items:,} | {_s(r['floor']['seconds'])} "
                f"| {_s(r['bulk']['seconds'])} | {_s(r['naive']['seconds'])} "
                f"| **{r['time_ratio_naive_over_bulk']:.1f}** | {r['bulk']['statements']:,} "
                f"| {r['naive']['statements']:,} | **{r['statement_ratio_naive_over_bulk']:.0f}** |"
            )
        out.append("")
    if "console" in results:
        out += [
            "#### Console pages (server time, django.test.Client, logged-in superuser)",
            "",
            "| database | page | median (ms) | p95 (ms) | queries per request |",
            "|---|---|---|---|---|",
        ]
        for backend, r in results["console"].items():
            for name, page in r["pages"].items():
                queries = ", ".join(str(q) for q in page["queries"])
                out.append(
                    f"| {NAMES[backend]} | {name} (`{page['url']}`) | {page['median_ms']:.1f} "
                    f"| {page['p95_ms']:.1f} | {queries} |"
                )
        p = next(iter(results["console"].values()))["params"]
        out += [
            "",
            f"({p['courses']:,} courses, {p['attempts']:,} attempts, {p['learners']:,} "
            f"learners, the dashboard's course has {p['learners']:,} attempts; "
            f"{p['requests']} requests per page after {p['warmup']} warm-up)",
            "",
        ]
    if "scaleout" in results:
        for backend, r in results["scaleout"].items():
            p = r["params"]
            out += [
                f"#### Scale-out on {NAMES[backend]} + Redis: {p['integrations']} integrations × "
                f"{p['courses']:,} courses, latency {p['latency'] * 1000:.0f} ms",
                "",
                "| workers | wall time (s) | speed-up | efficiency | ideal (fetch floor) (s) "
                "| median run (s) |",
                "|---|---|---|---|---|---|",
            ]
            ideal = r["ideal_seconds_per_worker_count"]
            for row in r["results"]:
                out.append(
                    f"| {row['workers']} | {row['wall_seconds']:.2f} | {row['speedup']:.2f} "
                    f"| {row['efficiency']:.2f} | {ideal[str(row['workers'])]:.2f} "
                    f"| {row['run_seconds_median']:.2f} |"
                )
            out.append("")
    if "scale" in results:
        out += _scale_tables(results["scale"])
    return "\n".join(out)


def _target(r: dict, key: str) -> str:
    op = "≥" if key == "share_of_limit" else "≤"
    return f"{op} {r['targets'][key]}: {_ok(r['met'][key])}"


def _scale_tables(section: dict) -> list[str]:
    out: list[str] = []
    for backend, r in section.items():
        p, lat, cpu, lim = r["params"], r["latency"], r["cpu"], r["rate_limited"]
        ms = p["latency"] * 1000
        out += [
            f"#### Scale on {NAMES[backend]}: {p['courses']:,} courses + {p['paths']} paths, "
            f"{r['activity_rows']:,} activity rows, K = {p['k']}",
            "",
            "| measurement | floor (s) | sync (s) | ratio | target |",
            "|---|---|---|---|---|",
            f"| first content sync at {ms:.0f} ms vs sequential fetch "
            f"| {_s(lat['floor_content']['seconds'])} | {_s(lat['first']['seconds'])} "
            f"| **{lat['first_over_floor']:.2f}** | {_target(r, 'first_over_floor')} |",
            f"| no-change re-sync at {ms:.0f} ms vs sequential fetch "
            f"| {_s(lat['floor_content']['seconds'])} | {_s(lat['resync']['seconds'])} "
            f"| **{lat['resync_over_floor']:.2f}** | {_target(r, 'resync_over_floor')} |",
            f"| first statistics sync at {ms:.0f} ms vs sequential fetch¹ "
            f"| {_s(lat['floor_stats']['seconds'])} | {_s(lat['stats']['seconds'])} "
            f"| **{lat['stats_over_floor']:.2f}** | {_target(r, 'stats_over_floor')} |",
            f"| first content sync at 0 ms vs download "
            f"| {_s(cpu['floor_content']['seconds'])} | {_s(cpu['first']['seconds'])} "
            f"| **{cpu['first_over_download']:.2f}** | {_target(r, 'first_over_download')} |",
            f"| no-change re-sync at 0 ms vs download "
            f"| {_s(cpu['floor_content']['seconds'])} | {_s(cpu['resync']['seconds'])} "
            f"| **{cpu['resync_over_download']:.2f}** | {_target(r, 'resync_over_download')} |",
            f"| first statistics sync at 0 ms vs download "
            f"| {_s(cpu['floor_stats']['seconds'])} | {_s(cpu['stats']['seconds'])} "
            f"| **{cpu['stats_over_download']:.2f}** | {_target(r, 'stats_over_download')} |",
            "",
            f"¹ the {ms:.0f} ms activity floor is measured on {lat['floor_stats']['sampled_pages']}"
            f" pages and scaled to {lat['floor_stats']['pages']:,}.",
            "",
            f"Rate-limited to {lim['limit']} requests/s (re-sync at {ms:.0f} ms): "
            f"{lim['requests']} requests in {lim['seconds']:.2f} s, {lim['achieved_rate']:.1f} "
            f"answered/s; after the bucket's initial burst of {lim['limit']}, "
            f"**{lim['sustained_rate']:.1f}/s = {lim['share_of_limit']:.2f} of the limit** "
            f"({_target(r, 'share_of_limit')}), {lim['throttled']} answered 429 = "
            f"{lim['throttled_share']:.3f} "
            f"({_target(r, 'throttled_share')}); run {lim['counts'].get('unchanged', 0):,} "
            "unchanged, succeeded.",
            "",
            f"CPU per page of 100 (latency 0, whole sync): content first sync "
            f"{r['cpu_ms_per_page']['content']:.1f} ms, statistics first sync "
            f"{r['cpu_ms_per_page']['stats']:.1f} ms. Model check at {ms:.0f} ms, K = {p['k']} "
            f"(pages × max(latency / K, CPU per page)): content predicted "
            f"{r['model_check']['first_predicted']:.1f} s, measured "
            f"{r['model_check']['first_measured']:.1f} s; statistics predicted "
            f"{r['model_check']['stats_predicted']:.1f} s, measured "
            f"{r['model_check']['stats_measured']:.1f} s.",
            "",
            f"#### Projection: {p['project_courses']:,} courses and {p['project_rows']:,} "
            "activity rows (minutes, from the CPU per page above)",
            "",
            "| latency per page | K | content first sync | statistics first sync |",
            "|---|---|---|---|",
        ]
        for row in r["projection"]:
            out.append(
                f"| {row['latency']:g} s | {row['k']} | {row['content_minutes']:.1f} "
                f"| {row['stats_minutes']:.1f} |"
            )
        out.append("")
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    target = None
    if "--write" in args:
        target = Path(args[args.index("--write") + 1])
        del args[args.index("--write") : args.index("--write") + 2]
    path = Path(args[0]) if args else Path(__file__).parent / "results.json"
    results = json.loads(path.read_text())
    if target:
        write_markdown(target, results)
    else:
        print(report(results))
