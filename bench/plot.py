"""docs/benchmarks/sync_vs_floor.png from the results (matplotlib, the `bench` extra)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

NAMES = {"sqlite": "SQLite", "pg": "PostgreSQL"}


def _size_panel(ax, results: dict) -> None:
    """Content sync time against catalog size, with the fetch-only floor as the reference."""
    content = results.get("content", {})
    if not content:
        ax.set_visible(False)
        return
    colors = {"sqlite": "#1f77b4", "pg": "#2ca02c"}
    floor_drawn = False
    for backend, r in content.items():
        rows = r.get("sizes", [])
        xs = [row["courses"] + row["paths"] for row in rows]
        if not floor_drawn:
            floors = [row["floor"]["median"] for row in rows]
            ax.plot(xs, floors, "k-", lw=2, label="a: fetch-only floor")
            floor_drawn = True
        color = colors[backend]
        name = NAMES[backend]
        ax.plot(xs, [row["first_sync"]["median"] for row in rows], "o-", color=color,
                label=f"b: first sync, {name}")  # fmt: skip
        ax.plot(xs, [row["resync"]["median"] for row in rows], "s--", color=color,
                label=f"c: no-change re-sync, {name}")  # fmt: skip
    notes = []
    for backend, naive in results.get("naive", {}).items():
        items = naive["bulk"]["counts"].get("fetched", 0)
        notes.append(
            f"naive update_or_create, {NAMES[backend]}, {items:,} items: "
            f"{naive['naive']['seconds']:.1f} s (bulk {naive['bulk']['seconds']:.1f} s)"
        )
    if notes:  # as text: on the same axis it would flatten every other line
        ax.text(0.98, 0.03, "\n".join(notes), transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#d62728")  # fmt: skip
    latency = next(iter(content.values()))["params"]["latency"]
    ax.set_xlabel("catalog size (courses + learning paths)")
    ax.set_ylabel("seconds (median)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Content sync vs fetch-only floor ({latency * 1000:.0f} ms per request)")
    ax.legend(fontsize=7)


def _counts_panel(ax, results: dict) -> None:
    counts = results.get("counts", {})
    if not counts:
        ax.set_visible(False)
        return
    styles = {"first": "o-", "resync": "s--", "stats": "^-", "stats_resync": "v--"}
    for backend, r in counts.items():
        sizes = [row["first"]["items"] for row in r["sizes"]]
        for label, style in styles.items():
            per100 = [row[label]["statements_per_100"] for row in r["sizes"]]
            xs = [row[label]["items"] for row in r["sizes"]] if "stats" in label else sizes
            ax.plot(xs, per100, style, label=f"{NAMES[backend]} {label}", markersize=4)
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("items synced")
    ax.set_ylabel("SQL statements per 100 items")
    ax.set_title("SQL statements per 100 items (latency 0)")
    ax.legend(fontsize=6, ncol=2)


def _scaleout_panel(ax, results: dict) -> None:
    scale = results.get("scaleout", {})
    if not scale:
        ax.set_visible(False)
        return
    for backend, r in scale.items():
        workers = [row["workers"] for row in r["results"]]
        ax.plot(workers, [row["wall_seconds"] for row in r["results"]], "o-", label="measured wall")
        ideal = r["ideal_seconds_per_worker_count"]
        ax.plot(workers, [ideal[str(w)] for w in workers], "k:", label="fetch floor / workers")
        p = r["params"]
        ax.set_title(
            f"Scale-out ({NAMES[backend]} + Redis): {p['integrations']} × {p['courses']:,} courses"
        )
    ax.set_xlabel("celery workers (--concurrency 1)")
    ax.set_ylabel("wall time (s)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)


def plot(results: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    _size_panel(axes[0], results)
    _counts_panel(axes[1], results)
    _scaleout_panel(axes[2], results)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
