"""Udemy Business xAPI: statements stored per second by the door, applied per second by the apply
task, and the time from send to applied at a steady rate (docs/xapi.md).

Three phases on one fresh database (PostgreSQL when --database-url names one, whose name must
contain "bench"; else a SQLite file in the var dir), against the product served by gunicorn in
its own processes, statements sent over HTTP by the Udemy sandbox's sender
(`sandboxes.udemy.xapi_sender`) with a token of the client credentials grant:

1. intake: `--statements` statements POSTed in batches of `--batch` by `--senders` threads, no
   worker running: stored statements per second (the door stores before it answers);
2. apply: the stored backlog applied by the apply task's body (`xapi_apply_pending`, batches of
   XAPI_APPLY_BATCH per transaction) in this process: applied statements per second;
3. latency: a real `celery worker` (concurrency 2, as Procfile.dev) on the broker (Redis with
   --redis-url, else the embedded file broker) while one sender sends `--rate` statements a
   second for `--seconds`: p50/p95/max from the moment a statement's request left to its
   `applied_at`.

The per-client rate limit (XAPI_RATE_PER_MINUTE) is raised for the run: the door's capacity is
measured, not the quota of one client.

    .venv/bin/python bench/xapi_intake.py [--quick] [--database-url URL] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import child_env, load_average, log, p95, stop_process  # noqa: E402

FULL = {"statements": 100_000, "learners": 10_000, "courses": 1_000, "senders": 8, "batch": 100,
        "rate": 200, "seconds": 30, "web_workers": 3}  # fmt: skip
QUICK = {"statements": 20_000, "learners": 2_000, "courses": 200, "senders": 4, "batch": 100,
         "rate": 200, "seconds": 10, "web_workers": 3}  # fmt: skip
TARGETS = {"stored_per_s": 2_000, "applied_per_s": 5_000, "latency_p95_s": 2.0}
PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def environment(opts: argparse.Namespace) -> dict[str, str]:
    var_dir = Path(opts.var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    backend = "pg" if opts.database_url.startswith("postgres") else "sqlite"
    env = child_env(backend=backend, var_dir=var_dir, db_name="xapi", pg_url=opts.database_url,
                    broker=opts.redis_url)  # fmt: skip
    if not opts.redis_url:  # the embedded file broker, shared by the web and the worker
        env.pop("CELERY_BROKER_URL")
        env.pop("CELERY_RESULT_BACKEND")
    env["XAPI_RATE_PER_MINUTE"] = "100000000"
    env["SECRET_KEY"] = env.get("SECRET_KEY") or "bench-only-secret-key"
    return env


def seed(params: dict) -> dict:
    """A group of `learners` learners and an integration of `courses` items (a tenth of them
    learning paths), with xAPI credentials."""
    from django.contrib.auth import get_user_model

    from catalog.models import Course, Group, Learner, Membership
    from integrations.models import Integration
    from integrations.services.xapi_credentials import xapi_credentials_issue

    platform = Group.objects.get(is_platform=True)
    group = Group.objects.create(name="Bench", slug="bench", parent=platform)
    owner = get_user_model().objects.create(username="bench-owner", is_superuser=True)
    integration = Integration.objects.create(
        group=group, provider="udemy", client_id="c", client_secret="s",  # noqa: S106 - unused
        organization_name="b",
        organization_id="1", status=Integration.Status.ACTIVE, owner=owner,
        sync_learning_paths=True,
    )  # fmt: skip
    emails = [f"learner{i}@bench.example.com" for i in range(params["learners"])]
    learners = Learner.objects.bulk_create([Learner(email=e) for e in emails], batch_size=2000)
    Membership.objects.bulk_create(
        [Membership(group=group, learner=learner) for learner in learners], batch_size=2000
    )
    items = []
    for i in range(params["courses"]):
        path = i % 10 == 9
        kind = Course.Kind.LEARNING_PATH if path else Course.Kind.COURSE
        url = f"https://bench.udemy.com/{'learning-paths' if path else 'course'}/item-{i}/"
        items.append(Course(integration=integration, group=group, kind=kind,
                            external_id=str(10_000 + i), title=f"Item {i}", name=f"Item {i}",
                            launch_url=url))  # fmt: skip
    Course.objects.bulk_create(items, batch_size=2000)
    issued = xapi_credentials_issue(integration=integration, actor=owner)
    return {"integration_id": integration.pk, "emails": emails,
            "objects": [c.launch_url for c in items], "client_id": issued.client_id,
            "client_secret": issued.client_secret}  # fmt: skip


def statements(n: int, world: dict, rng: random.Random, start: datetime) -> list[dict]:
    """`n` statements of learners each on 5 items of their own (a learner progressing in a few
    courses, statement after statement: some create an attempt, others update one)."""
    out = []
    emails, objects = world["emails"], world["objects"]
    for k in range(n):
        learner = rng.randrange(len(emails))
        item = objects[(learner * 37 + rng.randrange(5)) % len(objects)]
        progress = rng.randint(1, 100)
        verb = COMPLETED if progress == 100 else PROGRESSED
        out.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "actor": {"objectType": "Agent", "mbox": f"mailto:{emails[learner]}"},
            "verb": {"id": verb},
            "object": {"objectType": "Activity", "id": item},
            "result": {"completion": verb == COMPLETED, "extensions": {CMI5_PROGRESS: progress}},
            "timestamp": (start + timedelta(milliseconds=k)).isoformat(timespec="milliseconds"),
        })  # fmt: skip
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def sender_for(world: dict, base: str):
    from integrations.sandboxes.udemy.xapi_sender import XapiSender, XapiTarget

    return XapiSender(XapiTarget(f"{base}/xapi/oauth/token/",
                                 f"{base}/xapi/integrations/{world['integration_id']}/statements",
                                 world["client_id"], world["client_secret"]))  # fmt: skip


def intake(world: dict, base: str, params: dict) -> dict:
    from integrations.models import XapiStatement

    rng = random.Random(1)  # noqa: S311 - test data, not secrets
    todo = statements(params["statements"], world, rng, datetime(2026, 12, 1, tzinfo=UTC))
    batches = [todo[i : i + params["batch"]] for i in range(0, len(todo), params["batch"])]
    senders = [sender_for(world, base) for _ in range(params["senders"])]
    for one in senders:
        one.token()
    request_times: list[float] = []
    lock = threading.Lock()

    def work(one, mine):
        for batch in mine:
            began = time.perf_counter()
            one.send(batch)
            with lock:
                request_times.append(time.perf_counter() - began)

    threads = [threading.Thread(target=work, args=(one, batches[i :: len(senders)]))
               for i, one in enumerate(senders)]  # fmt: skip
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    stored = XapiStatement.objects.count()
    return {"statements": len(todo), "stored": stored, "seconds": round(elapsed, 2),
            "stored_per_s": round(stored / elapsed), "requests": len(batches),
            "request_p95_ms": round(p95(request_times) * 1000, 1),
            "retries": sum(s.counts.retries for s in senders)}  # fmt: skip


def apply_backlog(world: dict) -> dict:
    from catalog.models import Attempt
    from integrations.models import XapiStatement
    from integrations.services.xapi_apply import xapi_apply_pending

    began, cpu = time.perf_counter(), time.process_time()
    applied = batches = created = updated = 0
    while True:
        counts = xapi_apply_pending(integration_id=world["integration_id"])
        if not sum(counts[:3]):
            break
        applied, batches = applied + counts.applied, batches + 1
        created, updated = created + counts.created, updated + counts.updated
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    left = XapiStatement.objects.exclude(state=XapiStatement.State.APPLIED).count()
    return {"applied": applied, "not_applied": left, "batches": batches,
            "seconds": round(elapsed, 2), "applied_per_s": round(applied / elapsed),
            # this process's CPU only (the database's is apart): what a free CPU would allow
            "cpu_seconds": round(cpu, 2), "applied_per_cpu_s": round(applied / cpu),
            "attempts": Attempt.objects.count(), "created": created,
            "updated": updated}  # fmt: skip


def latency(world: dict, base: str, params: dict, env: dict, var_dir: Path) -> dict:
    from integrations.models import XapiStatement
    from lmsbridge.celery import app

    app.control.purge()  # the intake phase's apply tasks: the backlog is applied already
    log_path = var_dir / "xapi-worker.log"
    cmd = [sys.executable, "-m", "celery", "-A", "lmsbridge", "worker", "--concurrency", "2",
           "--without-mingle", "--without-gossip", "-l", "info"]  # fmt: skip
    with log_path.open("w") as out:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        one = sender_for(world, base)
        one.token()
        rng = random.Random(2)  # noqa: S311 - test data, not secrets
        per_request = max(1, params["rate"] // 20)  # 20 requests a second
        interval = per_request / params["rate"]
        sent_at: dict[str, float] = {}
        began = time.perf_counter()
        tick = began
        total = params["rate"] * params["seconds"]
        while len(sent_at) < total:
            batch = statements(per_request, world, rng, datetime.now(UTC))
            moment = time.time()
            one.send(batch)
            sent_at.update({s["id"]: moment for s in batch})
            tick += interval
            time.sleep(max(0.0, tick - time.perf_counter()))
        sending = time.perf_counter() - began
        ids = list(sent_at)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = XapiStatement.objects.filter(statement_id__in=ids, applied_at__isnull=False)
            if done.count() == len(ids):
                break
            time.sleep(0.5)
        rows = XapiStatement.objects.filter(statement_id__in=ids).values_list(
            "statement_id", "applied_at"
        )
        waits = sorted(a.timestamp() - sent_at[str(s)] for s, a in rows if a is not None)
    finally:
        stop_process(worker)
    return {"rate": params["rate"], "achieved_rate": round(len(sent_at) / sending),
            "statements": len(ids), "applied": len(waits),
            "p50_s": round(waits[len(waits) // 2], 3) if waits else None,
            "p95_s": round(p95(waits), 3) if waits else None,
            "max_s": round(waits[-1], 3) if waits else None}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    default_var = os.environ.get("LMSBRIDGE_VAR_DIR", str(ROOT / "var" / "bench"))
    parser.add_argument("--var-dir", default=default_var)
    parser.add_argument("--out", default="", help="JSON results (default: the var dir)")
    for name in FULL:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None)
    opts = parser.parse_args()
    params = {**(QUICK if opts.quick else FULL)}
    params.update({k: v for k in FULL if (v := getattr(opts, k)) is not None})
    env = environment(opts)
    os.environ.update(env)
    from bench.common import db_description, setup_django

    setup_django(fresh=True)
    var_dir = Path(opts.var_dir)
    load_before = load_average()
    world = seed(params)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "lmsbridge.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", str(params["web_workers"]), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_port(port)
        log(f"xapi intake: {params['statements']} statements, {params['senders']} senders")
        result = {"intake": intake(world, base, params)}
        log(f"xapi intake: {result['intake']}")
        result["apply"] = apply_backlog(world)
        log(f"xapi apply: {result['apply']}")
        result["latency"] = latency(world, base, params, env, var_dir)
        log(f"xapi latency: {result['latency']}")
    finally:
        stop_process(web)
    result.update(
        params=params, targets=TARGETS, database=db_description(),
        broker="redis" if opts.redis_url else "file", load_before=load_before,
        load_after=load_average(), nproc=os.cpu_count(), quick=opts.quick,
        measured_at=time.strftime("%Y-%m-%d %H:%M %Z"),
    )  # fmt: skip
    result["met"] = {
        "stored_per_s": result["intake"]["stored_per_s"] >= TARGETS["stored_per_s"],
        "applied_per_s": result["apply"]["applied_per_s"] >= TARGETS["applied_per_s"],
        "latency_p95_s": (result["latency"]["p95_s"] or 1e9) <= TARGETS["latency_p95_s"],
    }
    name = f"xapi-intake{'-quick' if opts.quick else ''}.json"
    out = Path(opts.out) if opts.out else var_dir / name
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
