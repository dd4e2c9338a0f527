"""The measurements, each run inside a child process whose Django is set up on a fresh database.

Every scenario returns a JSON-ready dict. Sizes and repetitions come from `params` (see run.py).
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    captured_queries,
    log,
    make_integration,
    make_owner,
    max_rss_kib,
    median,
    p95,
    proc_status,
    reset_peak_rss,
    run_counts,
    sandbox_process,
    statement_kinds,
    stop_process,
)

# --------------------------------------------------------------------------- helpers


def _var_dir() -> Path:
    return Path(os.environ["LMSBRIDGE_VAR_DIR"])


def drain(sandbox, streams: tuple[str, ...], *, max_pages: int | None = None) -> dict[str, Any]:
    """The floor: the client alone draining every page of `streams`, one page after the other
    (`page_concurrency = 1`, whatever UDEMY_PAGE_CONCURRENCY says: the sequential fetch time the
    syncs are compared with; `max_pages` per stream: a warm-up of connections and imports)."""
    from integrations.providers.udemy.client import UdemyClient

    items = 0
    started = time.perf_counter()
    with UdemyClient(sandbox.credentials()) as client:
        client.page_concurrency = 1
        for stream in streams:
            pages = {
                "courses": client.iter_course_pages,
                "learning_paths": client.iter_learning_path_pages,
                "activity": client.iter_user_course_activity_pages,
            }[stream]()
            for number, page in enumerate(pages, start=1):
                items += len(page.results)
                if max_pages and number >= max_pages:
                    break
        requests = client.request_count
    return {"seconds": time.perf_counter() - started, "items": items, "requests": requests}


WARM_UP = 3  # pages per stream


def timed_sync(integration, kind: str = "content", *, capture: bool = False) -> dict[str, Any]:
    """One sync through `sync_execute` (what the Celery task calls), optionally with every SQL
    statement captured around `sync_execute` only."""
    from integrations.models import SyncRun
    from integrations.services.sync import sync_execute

    run = SyncRun.objects.create(integration=integration, kind=kind, trigger=SyncRun.Trigger.MANUAL)
    queries = None
    if capture:
        with captured_queries() as ctx:
            started = time.perf_counter()
            sync_execute(run_id=run.pk)
            seconds = time.perf_counter() - started
        queries = ctx.captured_queries
    else:
        started = time.perf_counter()
        sync_execute(run_id=run.pk)
        seconds = time.perf_counter() - started
    run.refresh_from_db()
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{kind} run {run.pk} ended {run.status}: {run.error_summary}")
    result = {"seconds": seconds, "run_id": run.pk, "counts": run_counts(run)}
    if queries is not None:
        result["statements"] = len(queries)
        result["round_trips"] = sum(1 for q in queries if q.get("round_trip", True))
        result["statement_kinds"] = statement_kinds(queries)
        result["slowest_statements"] = slowest_statements(queries)
    return result


def slowest_statements(queries: list[dict], top: int = 6) -> list[dict]:
    """Where the database time goes: statements grouped by shape (literals and IN lists folded),
    with their count and total time."""
    shapes: dict[str, list[float]] = {}
    for query in queries:
        shape = re.sub(r"\([^()]*\)", "(…)", query["sql"])
        shape = re.sub(r"'[^']*'|\b\d+\b", "?", shape)[:160]
        shapes.setdefault(shape, []).append(float(query["time"]))
    ranked = sorted(shapes.items(), key=lambda kv: -sum(kv[1]))[:top]
    return [
        {"sql": shape, "count": len(times), "total_s": round(sum(times), 3)}
        for shape, times in ranked
    ]


def add_learners(emails: list[str]) -> int:
    from catalog.models import Learner
    from integrations.services.planner import analyze

    Learner.objects.bulk_create(
        [Learner(email=e) for e in emails], batch_size=2000, ignore_conflicts=True
    )
    analyze(Learner)  # as autovacuum would within a minute of such an import
    return Learner.objects.count()


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "runs": [round(v, 3) for v in values],
        "median": round(median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


# --------------------------------------------------------------------------- 1. content sync


def content(params: dict) -> dict:
    """At each catalog size: (a) fetch-only floor, (b) first sync on an empty catalog,
    (c) no-change re-sync; `reps` interleaved repetitions, medians reported. The headline
    ratios are those of the largest size (learning paths: one per 50 courses)."""
    latency, sizes = params["latency"], params["sizes"]
    rows = [
        _content_size(
            size,
            size // 50,
            latency,
            params["reps"] if size == sizes[-1] else params.get("curve_reps", params["reps"]),
        )
        for size in sizes
    ]
    top = rows[-1]
    return {
        "params": params,
        "sizes": rows,
        "courses": top["courses"],
        "paths": top["paths"],
        "floor": top["floor"],
        "first_sync": top["first_sync"],
        "resync": top["resync"],
        "b_over_a": top["b_over_a"],
        "c_over_a": top["c_over_a"],
        "targets": {"b_over_a": 1.3, "c_over_a": 1.1},
        "met": {"b_over_a": top["b_over_a"] <= 1.3, "c_over_a": top["c_over_a"] <= 1.1},
    }


def _content_size(courses: int, paths: int, latency: float, reps: int) -> dict:
    floors, firsts, resyncs, details = [], [], [], []
    with sandbox_process(var_dir=_var_dir(), courses=courses, paths=paths) as sandbox:
        sandbox.set_latency(latency)
        drain(sandbox, ("courses", "learning_paths"), max_pages=WARM_UP)
        for rep in range(reps):
            # Interleaved, so that a change of machine load hits a, b and c alike.
            floor = drain(sandbox, ("courses", "learning_paths"))
            integration = make_integration(sandbox, f"content-{courses}-{rep}")
            sandbox.reset_log()
            first = timed_sync(integration)
            first["requests"] = sandbox.requests()
            sandbox.reset_log()
            resync = timed_sync(integration)
            resync["requests"] = sandbox.requests()
            expected = courses + paths
            if first["counts"].get("created") != expected:
                raise RuntimeError(f"first sync created {first['counts']}, expected {expected}")
            if resync["counts"].get("unchanged") != expected or resync["counts"].get("created"):
                raise RuntimeError(f"re-sync was not a no-change sync: {resync['counts']}")
            floors.append(floor["seconds"])
            firsts.append(first["seconds"])
            resyncs.append(resync["seconds"])
            details.append({"floor": floor, "first": first, "resync": resync})
            log(
                f"content {courses}+{paths} rep {rep}: floor {floor['seconds']:.2f}s "
                f"first {first['seconds']:.2f}s resync {resync['seconds']:.2f}s"
            )
    a, b, c = median(floors), median(firsts), median(resyncs)
    return {
        "courses": courses,
        "paths": paths,
        "floor": summary(floors),
        "first_sync": summary(firsts),
        "resync": summary(resyncs),
        "b_over_a": ratio(b, a),
        "c_over_a": ratio(c, a),
        "details": details,
    }


# --------------------------------------------------------------------------- 2. statistics sync


def stats(params: dict) -> dict:
    """(a) floor of the activity report (scaled from `floor_sample` pages when given), (b) first
    statistics sync (no attempts yet), `reps` interleaved pairs; then, unless `resync` is false,
    (c) one no-change statistics re-sync (the counts section measures re-syncs at latency 0).
    The catalog is synced once beforehand at latency 0."""
    from catalog.models import Attempt

    learners, per, courses = params["learners"], params["activity_per_learner"], params["courses"]
    reps, latency = params["reps"], params["latency"]
    floors, firsts, details = [], [], []
    with sandbox_process(
        var_dir=_var_dir(), courses=courses, learners=learners, activity_per_learner=per
    ) as sandbox:
        add_learners(sandbox.learner_emails())
        integration = make_integration(sandbox, "stats", paths=False)
        timed_sync(integration, "content")
        sandbox.set_latency(latency)
        drain(sandbox, ("activity",), max_pages=WARM_UP)
        pages = math.ceil(sandbox.info["activity"] / 100)
        for rep in range(reps):
            # Every page of the report costs the same at a fixed latency: the floor of the whole
            # report is measured on `floor_sample` pages (all of them without it) and scaled.
            floor = _floor(sandbox, ("activity",), pages, params.get("floor_sample"))
            Attempt.objects.filter(course__integration=integration).delete()
            sandbox.reset_log()
            first = timed_sync(integration, "stats")
            first["requests"] = sandbox.requests()
            if not first["counts"].get("created"):
                raise RuntimeError(f"the first statistics sync created nothing: {first['counts']}")
            floors.append(floor["seconds"])
            firsts.append(first["seconds"])
            details.append({"floor": floor, "first": first})
            log(f"stats rep {rep}: floor {floor['seconds']:.2f}s first {first['seconds']:.2f}s")
        resync = None
        if params.get("resync", True):
            sandbox.reset_log()
            resync = timed_sync(integration, "stats")
            resync["requests"] = sandbox.requests()
            if resync["counts"].get("created") or resync["counts"].get("updated"):
                raise RuntimeError(f"the statistics re-sync changed rows: {resync['counts']}")
            log(f"stats resync: {resync['seconds']:.2f}s")
        rows = sandbox.info["activity"]
    a, b = median(floors), median(firsts)
    c = resync["seconds"] if resync else None
    return {
        "params": {**params, "activity_rows": rows},
        "floor": summary(floors),
        "first_sync": summary(firsts),
        "resync": summary([c]) if resync else None,
        "resync_detail": resync,
        "b_over_a": ratio(b, a),
        "c_over_a": ratio(c, a) if resync else None,
        "targets": {"b_over_a": 1.5},
        "met": {"b_over_a": b / a <= 1.5},
        "details": details,
    }


# --------------------------------------------------------------------------- 3. counts


def counts(params: dict) -> dict:
    """HTTP requests and SQL statements per 100 items, at several sizes, latency 0."""
    sizes = params["sizes"]
    results = []
    for size in sizes:
        paths, learners = size // 50, size // 5
        with sandbox_process(
            var_dir=_var_dir(), courses=size, paths=paths, learners=learners
        ) as sandbox:
            add_learners(sandbox.learner_emails())
            integration = make_integration(sandbox, f"counts-{size}")
            row: dict[str, Any] = {"size": size, "paths": paths, "learners": learners}
            for label, kind in (
                ("first", "content"),
                ("resync", "content"),
                ("stats", "stats"),
                ("stats_resync", "stats"),
            ):
                sandbox.reset_log()
                measured = timed_sync(integration, kind, capture=True)
                requests = sandbox.requests()
                items = measured["counts"].get("fetched", 0)
                row[label] = {
                    "items": items,
                    "requests": requests,
                    "statements": measured["statements"],
                    "requests_per_100": round(100 * requests / items, 3),
                    "statements_per_100": round(100 * measured["statements"] / items, 3),
                    "statement_kinds": measured["statement_kinds"],
                    "slowest_statements": measured["slowest_statements"],
                    "seconds": round(measured["seconds"], 3),
                    "counts": measured["counts"],
                }
                log(
                    f"counts {size} {label}: {items} items, {requests} requests, "
                    f"{measured['statements']} statements, {measured['seconds']:.1f}s"
                )
            results.append(row)
    flat = {}
    for label in ("first", "resync", "stats", "stats_resync"):
        per100 = [r[label]["statements_per_100"] for r in results]
        flat[label] = {
            "statements_per_100": per100,
            "requests_per_100": [r[label]["requests_per_100"] for r in results],
            "spread": round(max(per100) / min(per100), 3) if min(per100) else None,
        }
        if len(results) >= 2:
            # statements = fixed + marginal * items: the marginal cost is what must stay flat.
            lo, hi = results[-2][label], results[-1][label]
            slope = (hi["statements"] - lo["statements"]) / (hi["items"] - lo["items"])
            flat[label]["marginal_statements_per_100"] = round(100 * slope, 3)
            flat[label]["fixed_statements"] = round(lo["statements"] - slope * lo["items"], 1)
            req = (hi["requests"] - lo["requests"]) / (hi["items"] - lo["items"])
            flat[label]["marginal_requests_per_100"] = round(100 * req, 3)
    return {"params": params, "sizes": results, "flatness": flat}


# --------------------------------------------------------------------------- 4. memory


def memory(params: dict) -> dict:
    """Peak memory of one first content sync of `size` courses (this process holds nothing else
    of size: the sandbox is another process). Two first syncs on two integrations: one untraced
    for the peak RSS, one under tracemalloc for the peak of Python allocations.

    Courses only: a page of learning paths is larger than a page of courses (each path lists its
    items), and a 5,000-course catalog has a single page of paths where 50,000 have ten, so with
    paths the two sizes would differ by the shape of their pages in flight, not by their size."""
    size = params["size"]
    with sandbox_process(var_dir=_var_dir(), courses=size, paths=0) as sandbox:
        first = make_integration(sandbox, f"memory-{size}-rss", paths=False)
        second = make_integration(sandbox, f"memory-{size}-traced", paths=False)
        gc.collect()
        rss_before = proc_status("VmRSS")
        reset_ok = reset_peak_rss()
        untraced = timed_sync(first)
        peak_rss = proc_status("VmHWM")
        gc.collect()
        tracemalloc.start()
        traced = timed_sync(second)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "size": size,
        "items": untraced["counts"].get("fetched"),
        "rss_before_kib": rss_before,
        "peak_rss_during_sync_kib": peak_rss if reset_ok else None,
        "rss_growth_kib": (peak_rss - rss_before) if reset_ok else None,
        "tracemalloc_peak_bytes": traced_peak,
        "ru_maxrss_kib": max_rss_kib(),
        "seconds_untraced": round(untraced["seconds"], 3),
        "seconds_traced": round(traced["seconds"], 3),
    }


# --------------------------------------------------------------------------- 5. naive baseline


def naive(params: dict) -> dict:
    """The bulk first sync and the per-item `update_or_create` one, same data, same latency."""
    from bench.naive import naive_content_sync
    from catalog.models import Course

    courses, paths, latency = params["courses"], params["paths"], params["latency"]
    out: dict[str, Any] = {"params": params}
    with sandbox_process(var_dir=_var_dir(), courses=courses, paths=paths) as sandbox:
        sandbox.set_latency(latency)
        drain(sandbox, ("courses", "learning_paths"), max_pages=WARM_UP)
        out["floor"] = drain(sandbox, ("courses", "learning_paths"))
        bulk_integration = make_integration(sandbox, "naive-bulk")
        bulk = timed_sync(bulk_integration, capture=True)
        out["bulk"] = {k: bulk[k] for k in ("seconds", "statements", "statement_kinds", "counts")}
        log(f"naive: bulk {bulk['seconds']:.2f}s, {bulk['statements']} statements")
        naive_integration = make_integration(sandbox, "naive-naive")
        with captured_queries() as ctx:
            started = time.perf_counter()
            naive_counts = naive_content_sync(naive_integration)
            seconds = time.perf_counter() - started
        out["naive"] = {
            "seconds": seconds,
            "statements": len(ctx.captured_queries),
            "statement_kinds": statement_kinds(ctx.captured_queries),
            "counts": naive_counts,
        }
        log(f"naive: per-item {seconds:.2f}s, {len(ctx.captured_queries)} statements")
        n_bulk = Course.objects.filter(integration=bulk_integration).count()
        n_naive = Course.objects.filter(integration=naive_integration).count()
        if n_bulk != n_naive:
            raise RuntimeError(f"naive and bulk disagree: {n_naive} vs {n_bulk} courses")
    out["time_ratio_naive_over_bulk"] = ratio(out["naive"]["seconds"], out["bulk"]["seconds"])
    out["statement_ratio_naive_over_bulk"] = ratio(
        out["naive"]["statements"], out["bulk"]["statements"]
    )
    return out


# --------------------------------------------------------------------------- 6. console


TOPICS = [
    "Python", "JavaScript", "React", "Docker", "AWS", "SQL", "Machine Learning", "Excel",
    "Power BI", "Project Management", "Agile", "Public Speaking", "Leadership", "Negotiation",
    "Cybersecurity", "Linux", "Pandas", "Marketing", "UX Design", "Figma", "Go", "Rust",
]  # fmt: skip
LANGS = ["en", "en", "en", "fr", "de", "ja", "pt-BR", "es"]


def _console_data(*, courses: int, attempts: int, learners: int, errors: int, pages: int):
    """Bulk-create a big catalog, its statistics and a finished run with a full page ledger."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from catalog.models import Attempt, Course, Group, Learner, Tag
    from integrations.models import Integration, SyncError, SyncPage, SyncRun

    now = timezone.now()
    admin = get_user_model().objects.create_superuser(
        "bench-admin",
        "bench-admin@bench.example",
        "bench-admin-password",
    )
    group = Group.objects.create(name="Bench console", slug="bench-console")
    integration = Integration.objects.create(
        group=group,
        client_id="bench-client",
        client_secret="bench-secret",  # noqa: S106
        organization_name="bench",
        organization_id="4242",
        api_base_url="http://127.0.0.1:9/api-2.0/organizations/4242/",
        sync_tags=True,
        sync_learning_paths=True,
        status=Integration.Status.ACTIVE,
        owner=make_owner(),
    )
    tags = Tag.objects.bulk_create([Tag(name=t) for t in TOPICS])
    rows = []
    for i in range(courses):
        topic = TOPICS[i % len(TOPICS)]
        kind = Course.Kind.LEARNING_PATH if i % 250 == 249 else Course.Kind.COURSE
        title = f"{topic} course {i}" if kind == Course.Kind.COURSE else f"[Learning Path] {topic}"
        rows.append(
            Course(
                integration=integration,
                group=group,
                kind=kind,
                external_id=str(100_000 + i),
                title=title,
                name=title,
                description=f"<p>Learn <strong>{topic}</strong> with exercises.</p>",
                image=f"https://img-c.udemycdn.com/course/750x422/{100_000 + i}_abcd.jpg",
                duration_minutes=30 + i % 600,
                authors=["Jane Doe", "Wei Tanaka"][: 1 + i % 2],
                lang=LANGS[i % len(LANGS)],
                launch_url=f"https://bench.udemy.com/course/{topic.lower()}-{i}/",
                status=Course.Status.ARCHIVED if i % 100 == 99 else Course.Status.ACTIVE,
                fingerprint=f"{i:064x}",
            )
        )
    Course.objects.bulk_create(rows, batch_size=2000)
    course_ids = list(
        Course.objects.filter(integration=integration).order_by("pk").values_list("pk", flat=True)
    )
    through = Course.tags.through
    links = [
        through(course_id=pk, tag_id=tags[(n + k * 7) % len(tags)].pk)
        for n, pk in enumerate(course_ids)
        for k in range(1 + n % 2)
    ]
    through.objects.bulk_create(links, batch_size=5000)
    Learner.objects.bulk_create(
        [
            Learner(email=f"learner{i:05d}@bench.example", first_name="L", last_name=str(i))
            for i in range(learners)
        ],
        batch_size=2000,
    )
    learner_ids = list(
        Learner.objects.filter(email__startswith="learner", email__endswith="@bench.example")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    hot = course_ids[0]
    per_learner = max(0, (attempts - len(learner_ids)) // max(1, len(learner_ids)))
    batch: list[Attempt] = []
    total = 0

    def attempt(learner_id: int, course_id: int, n: int) -> Attempt:
        done = n % 3 == 0
        return Attempt(
            learner_id=learner_id,
            course_id=course_id,
            number=1,
            first_activity=now - timedelta(days=30 + n % 300),
            last_activity=now - timedelta(days=n % 30),
            completed_at=now - timedelta(days=n % 30) if done else None,
            progress=100.0 if done else float(n % 100),
            time_spent_ms=(n % 600) * 60_000,
            is_open=not done,
            fingerprint=f"{n:064x}",
        )

    for i, learner_id in enumerate(learner_ids):
        batch.append(attempt(learner_id, hot, i))
        for k in range(per_learner):
            course_id = course_ids[1 + (i * per_learner + k) % (len(course_ids) - 1)]
            batch.append(attempt(learner_id, course_id, i + k))
        if len(batch) >= 10_000:
            Attempt.objects.bulk_create(batch, batch_size=5000)
            total += len(batch)
            batch = []
    Attempt.objects.bulk_create(batch, batch_size=5000)
    total += len(batch)
    for n in range(30):  # a history
        SyncRun.objects.create(
            integration=integration,
            kind=SyncRun.Kind.CONTENT if n % 2 else SyncRun.Kind.STATS,
            trigger=SyncRun.Trigger.SCHEDULE,
            status=SyncRun.Status.SUCCEEDED,
            started_at=now - timedelta(days=n + 1),
            finished_at=now - timedelta(days=n + 1) + timedelta(minutes=20),
            fetched=courses,
            unchanged=courses,
        )
    run = SyncRun.objects.create(
        integration=integration,
        kind=SyncRun.Kind.CONTENT,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.PARTIAL,
        started_at=now - timedelta(minutes=30),
        finished_at=now - timedelta(minutes=5),
        fetched=courses,
        created=courses - errors,
        failed=errors,
        progress_done=courses,
        progress_total=courses,
        checkpoint={"courses": pages},
        archival_decision="skipped",
        archival_reason=f"{errors} item(s) failed: the scan is not error-free",
    )
    SyncPage.objects.bulk_create(
        [
            SyncPage(
                run=run,
                stream="courses",
                number=p + 1,
                external_ids=[str(100_000 + p * 100 + k) for k in range(100)],
            )
            for p in range(pages)
        ],
        batch_size=200,
    )
    SyncError.objects.bulk_create(
        [
            SyncError(
                run=run,
                external_id=str(900_000 + e),
                category="invalid_item",
                message=f"Item {900_000 + e}: the title is missing.",
                excerpt=f"{{'id': {900_000 + e}, 'title': None}}",
            )
            for e in range(errors)
        ],
        batch_size=2000,
    )
    return admin, group, hot, run, total


def console(params: dict) -> dict:
    from django.test import Client
    from django.urls import reverse

    requests, warmup = params["requests"], params["warmup"]
    started = time.perf_counter()
    admin, group, hot, run, attempts = _console_data(
        courses=params["courses"],
        attempts=params["attempts"],
        learners=params["learners"],
        errors=params["errors"],
        pages=params["courses"] // 100,
    )
    build_seconds = time.perf_counter() - started
    log(f"console: data built in {build_seconds:.1f}s ({attempts} attempts)")
    from django.db import connection

    if connection.vendor == "postgresql":
        # Steady state: in production autovacuum has analyzed tables loaded long ago (this
        # server runs with autovacuum off, which would leave the planner without statistics).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    slug = group.slug
    catalog = reverse("catalog:group_catalog", kwargs={"slug": slug})
    pages = {
        "catalog": catalog,
        "catalog_last_page": f"{catalog}?page=999999",  # get_page() clamps to the last
        "catalog_search": f"{catalog}?q=Python",
        "course_dashboard": reverse(
            "catalog:course_dashboard", kwargs={"slug": slug, "course_id": hot}
        ),
        "run_page": reverse("integrations:run", kwargs={"slug": slug, "run_id": run.pk}),
    }
    client = Client()
    client.force_login(admin)
    results = {}
    for name, url in pages.items():
        for _ in range(warmup):
            client.get(url)
        times, queries, sizes = [], [], []
        for _ in range(requests):
            with captured_queries() as ctx:
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            queries.append(len(ctx.captured_queries))
            sizes.append(len(response.content))
            last = ctx.captured_queries
        results[name] = {
            "url": url,
            "median_ms": round(median(times), 2),
            "p95_ms": round(p95(times), 2),
            "min_ms": round(min(times), 2),
            "queries": sorted(set(queries)),
            "bytes": sizes[-1],
            "slowest_statements": slowest_statements(last, top=4),
        }
        log(f"console {name}: median {median(times):.1f} ms, {sorted(set(queries))} queries")
    return {
        "params": params,
        "analyzed": connection.vendor == "postgresql",
        "attempts_created": attempts,
        "hot_course_attempts": params["learners"],
        "build_seconds": round(build_seconds, 1),
        "pages": results,
    }


# --------------------------------------------------------------------------- 7. scale-out


WORKER_CMD = [
    sys.executable, "-m", "celery", "-A", "lmsbridge", "worker", "-l", "warning",
    "--without-gossip", "--without-mingle", "--without-heartbeat",
]  # fmt: skip


def _wait_workers(app, names: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(destination=names, timeout=1.0) or []
        answered = {name for reply in replies for name in reply}
        if answered >= set(names):
            return
        time.sleep(0.5)
    raise RuntimeError(f"workers {names} did not answer a ping within {timeout}s")


def _scaleout_round(sandbox, *, workers: int, round_: int, n: int, queue: str, timeout: float):
    """Enqueue one content run per fresh integration; wait until all are finished."""
    from django.db.models import Max, Min

    from integrations.models import SyncRun
    from integrations.tasks import run_sync

    runs = [
        SyncRun.objects.create(
            integration=make_integration(sandbox, f"scale-w{workers}-r{round_}-{i}", paths=False),
            kind=SyncRun.Kind.CONTENT,
            trigger=SyncRun.Trigger.MANUAL,
        )
        for i in range(n)
    ]
    ids = [r.pk for r in runs]
    started = time.perf_counter()
    for run in runs:
        run_sync.apply_async(args=[run.pk], queue=queue)
    deadline = time.monotonic() + timeout
    finished = 0
    while time.monotonic() < deadline:
        finished = SyncRun.objects.filter(pk__in=ids, status__in=SyncRun.FINISHED).count()
        if finished == len(ids):
            break
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if finished != len(ids):
        raise RuntimeError(f"{len(ids) - finished} runs unfinished after the timeout")
    done = SyncRun.objects.filter(pk__in=ids)
    span = done.aggregate(first=Min("started_at"), last=Max("finished_at"))
    return {
        "wall_seconds": wall,
        "db_span_seconds": (span["last"] - span["first"]).total_seconds(),
        "durations": [(r.finished_at - r.started_at).total_seconds() for r in done],
        "statuses": sorted({r.status for r in done}),
    }


def scaleout(params: dict) -> dict:
    """N integrations synced by 1, 2, 4 real `celery worker` processes (--concurrency 1 each)
    on PostgreSQL + Redis, through the real task `integrations.tasks.run_sync`. Workers are
    started (and answer a ping) before the clock starts; `reps` rounds per worker count, each on
    fresh integrations (a first sync); the median round counts."""
    from integrations.models import SyncRun
    from lmsbridge.celery import app

    n, courses, latency = params["integrations"], params["courses"], params["latency"]
    reps = params.get("reps", 1)
    queue = f"lmsbridge-bench-{os.getpid()}"
    host = socket.gethostname()
    results = []
    with sandbox_process(var_dir=_var_dir(), courses=courses, paths=0) as sandbox:
        sandbox.set_latency(latency)
        drain(sandbox, ("courses",), max_pages=WARM_UP)
        floor = drain(sandbox, ("courses",))
        for workers in params["workers"]:
            names = [f"bench{workers}-{j}-{os.getpid()}@{host}" for j in range(workers)]
            procs, logs, rounds = [], [], []
            try:
                for name in names:
                    log_path = _var_dir() / f"worker-{name.split('@')[0]}.log"
                    logs.append(log_path)
                    with log_path.open("w") as out:
                        procs.append(
                            subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
                                [*WORKER_CMD, "-Q", queue, "-c", "1", "-n", name],
                                cwd=ROOT,
                                env=dict(os.environ),
                                stdout=out,
                                stderr=subprocess.STDOUT,
                                start_new_session=True,
                            )
                        )
                _wait_workers(app, names)
                for round_ in range(reps):
                    rounds.append(
                        _scaleout_round(
                            sandbox,
                            workers=workers,
                            round_=round_,
                            n=n,
                            queue=queue,
                            timeout=params.get("timeout", 900),
                        )
                    )
                    log(
                        f"scaleout {workers} worker(s), round {round_}: "
                        f"{rounds[-1]['wall_seconds']:.2f}s for {n} runs"
                    )
            finally:
                for proc in procs:
                    stop_process(proc)
            statuses = sorted({s for r in rounds for s in r["statuses"]})
            walls = [r["wall_seconds"] for r in rounds]
            results.append(
                {
                    "workers": workers,
                    "wall_seconds": round(median(walls), 3),
                    "wall_seconds_runs": [round(w, 3) for w in walls],
                    "db_span_seconds": round(median([r["db_span_seconds"] for r in rounds]), 3),
                    "run_seconds_median": round(
                        median([d for r in rounds for d in r["durations"]]), 3
                    ),
                    "statuses": statuses,
                    "items_per_second": round(n * courses / median(walls), 1),
                }
            )
            if statuses != [SyncRun.Status.SUCCEEDED]:
                raise RuntimeError(f"scale-out runs ended {statuses}; see {logs}")
    base = results[0]["wall_seconds"]
    for row in results:
        row["speedup"] = round(base / row["wall_seconds"], 3)
        row["efficiency"] = round(base / row["wall_seconds"] / row["workers"], 3)
    return {
        "params": params,
        "floor_one_integration": floor,
        "serial_fetch_floor_seconds": round(n * floor["seconds"], 3),
        "ideal_seconds_per_worker_count": {
            str(w): round(math.ceil(n / w) * floor["seconds"], 3) for w in params["workers"]
        },
        "results": results,
    }


# --------------------------------------------------------------------------- 8. scale


def _floor(
    sandbox, streams: tuple[str, ...], pages: int, sample: int | None, reps: int = 1
) -> dict:
    """The sequential fetch floor of `pages` pages; with `sample`, measured on that many pages
    of each stream and scaled (every page of a list costs the same at a fixed latency). With
    `reps`, the median of that many drains (a floor of a second or two, at latency 0, moves
    with whatever else the machine does in that second)."""
    drains = [drain(sandbox, streams, max_pages=sample) for _ in range(reps)]
    measured = sorted(drains, key=lambda d: d["seconds"])[len(drains) // 2]
    fetched = measured["requests"]
    seconds = measured["seconds"] * pages / fetched if sample else measured["seconds"]
    return {
        **measured, "pages": pages, "sampled_pages": fetched, "seconds": seconds,
        "drains_seconds": [round(d["seconds"], 3) for d in drains],
    }  # fmt: skip


def _sync_figures(integration, kind: str, sandbox) -> dict:
    before = sandbox.state()
    result = timed_sync(integration, kind)
    after = sandbox.state()
    result["requests"] = after["requests"] - before["requests"]
    result["throttled"] = after["throttled"] - before["throttled"]
    result["max_in_flight"] = after["max_in_flight"]
    return result


def _floors_and_syncs(
    sandbox,
    label: str,
    *,
    pages: tuple[int, int],
    stats_sample: int | None,
    suffix: str,
    floor_reps: int = 1,
) -> dict:
    """At the sandbox's current latency: the sequential floors (the median of `floor_reps`
    drains), then a first content sync, a re-sync and a first statistics sync of a new
    integration, with their ratios to the floors (`first_over_<suffix>`...)."""
    content_pages, stats_pages = pages
    floor_c = _floor(sandbox, ("courses", "learning_paths"), content_pages, None, floor_reps)
    floor_s = _floor(sandbox, ("activity",), stats_pages, stats_sample, floor_reps)
    integration = make_integration(sandbox, label)
    first = _sync_figures(integration, "content", sandbox)
    resync = _sync_figures(integration, "content", sandbox)
    stats = _sync_figures(integration, "stats", sandbox)
    figures = {
        "floor_content": floor_c, "floor_stats": floor_s,
        "first": first, "resync": resync, "stats": stats,
        f"first_over_{suffix}": ratio(first["seconds"], floor_c["seconds"]),
        f"resync_over_{suffix}": ratio(resync["seconds"], floor_c["seconds"]),
        f"stats_over_{suffix}": ratio(stats["seconds"], floor_s["seconds"]),
    }  # fmt: skip
    log(f"{label}: {json.dumps({k: v for k, v in figures.items() if '_over_' in k})}")
    return {**figures, "integration": integration}


def _projection(per_page: dict[str, float], params: dict) -> list[dict]:
    """Hours to sync `project_courses` courses and `project_rows` activity rows: each page costs
    max(latency / K, the measured CPU per page), K pages being fetched while one is written."""
    pages = {
        "content": math.ceil(params["project_courses"] / 100),
        "stats": math.ceil(params["project_rows"] / 100),
    }
    rows = []
    for latency in params["project_latencies"]:
        for k in (1, 4, 8):
            row = {"latency": latency, "k": k}
            for kind, n in pages.items():
                cost = max(latency / k, per_page[kind]) if k > 1 else latency + per_page[kind]
                row[f"{kind}_minutes"] = round(n * cost / 60, 1)
            rows.append(row)
    return rows


def scale(params: dict) -> dict:
    """[16] Scale: at `latency` (100 ms) the first content sync, the no-change re-sync and the
    first statistics sync with K pages in flight, against the sequential fetch floor; the same
    at latency 0 on a second integration (the CPU cost, against the time to download the same
    pages); a re-sync with the sandbox limited to `rate_limit` requests/s; and a projection to
    the largest organizations from the measured CPU per page."""
    courses, paths = params["courses"], params["paths"]
    learners, per = params["learners"], params["activity_per_learner"]
    out: dict[str, Any] = {"params": params}
    with sandbox_process(
        var_dir=_var_dir(), courses=courses, paths=paths, learners=learners,
        activity_per_learner=per,
    ) as sandbox:  # fmt: skip
        add_learners(sandbox.learner_emails())
        rows = sandbox.info["activity"]
        content_pages = math.ceil(courses / 100) + math.ceil(paths / 100)
        stats_pages = math.ceil(rows / 100)
        out["activity_rows"] = rows
        drain(sandbox, ("courses", "activity"), max_pages=WARM_UP)

        # a. latency, no rate limit
        sandbox.set_latency(params["latency"])
        out["latency"] = _floors_and_syncs(
            sandbox, "scale", pages=(content_pages, stats_pages),
            stats_sample=params["stats_floor_sample"], suffix="floor",
        )  # fmt: skip
        integration = out["latency"].pop("integration")

        # b. rate limit (a re-sync: cheap enough per page that the limit is what binds)
        sandbox.scenario(rate_limit=params["rate_limit"], burst=params["rate_limit"])
        limited = _sync_figures(integration, "content", sandbox)
        sandbox.scenario(rate_limit=0)
        # The bucket starts full: the first `burst` answers are free; the sustained rate is
        # what came after them.
        answered = limited["requests"] - limited["throttled"]
        sustained = max(0, answered - params["rate_limit"]) / limited["seconds"]
        out["rate_limited"] = {
            **limited,
            "limit": params["rate_limit"],
            "achieved_rate": round(answered / limited["seconds"], 2),
            "sustained_rate": round(sustained, 2),
            "share_of_limit": ratio(sustained, params["rate_limit"]),
            "throttled_share": ratio(limited["throttled"], limited["requests"]),
        }
        log(f"scale rate-limited: {out['rate_limited']['achieved_rate']} req/s answered, "
            f"{limited['throttled']} of {limited['requests']} throttled")  # fmt: skip

        # c. latency 0: the CPU cost against the time to download the same pages
        sandbox.set_latency(0.0)
        out["cpu"] = _floors_and_syncs(
            sandbox, "scale-cpu", pages=(content_pages, stats_pages), stats_sample=None,
            suffix="download", floor_reps=3,
        )  # fmt: skip
        out["cpu"].pop("integration")
    first, stats_first = out["latency"]["first"], out["latency"]["stats"]
    first0, stats0 = out["cpu"]["first"], out["cpu"]["stats"]
    per_page = {
        "content": first0["seconds"] / content_pages,
        "stats": stats0["seconds"] / stats_pages,
    }
    out["cpu_ms_per_page"] = {k: round(1000 * v, 2) for k, v in per_page.items()}
    # The model checked against what was measured at `latency` with K.
    fetch = params["latency"] / params["k"]
    out["model_check"] = {
        "first_predicted": round(content_pages * max(fetch, per_page["content"]), 2),
        "first_measured": round(first["seconds"], 2),
        "stats_predicted": round(stats_pages * max(fetch, per_page["stats"]), 2),
        "stats_measured": round(stats_first["seconds"], 2),
    }
    out["projection"] = _projection(per_page, params)
    lat, cpu_r, lim = out["latency"], out["cpu"], out["rate_limited"]
    out["targets"] = {
        "first_over_floor": 0.35, "stats_over_floor": 0.35, "resync_over_floor": 0.3,
        "share_of_limit": 0.85, "throttled_share": 0.02,
        "resync_over_download": 2.0, "first_over_download": 4.0, "stats_over_download": 3.0,
    }  # fmt: skip
    measured = {
        **{key: lat[key] for key in ("first_over_floor", "stats_over_floor", "resync_over_floor")},
        **{key: lim[key] for key in ("share_of_limit", "throttled_share")},
        **{key: cpu_r[key] for key in
           ("resync_over_download", "first_over_download", "stats_over_download")},
    }  # fmt: skip
    out["met"] = {
        key: (value >= out["targets"][key] if key == "share_of_limit"
              else value <= out["targets"][key])
        for key, value in measured.items()
    }  # fmt: skip
    return out


SCENARIOS = {
    "content": content,
    "stats": stats,
    "counts": counts,
    "memory": memory,
    "naive": naive,
    "console": console,
    "scaleout": scaleout,
    "scale": scale,
}
