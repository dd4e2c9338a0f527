"""The loopback HTTP server under every sandbox (the fake Udemy, LearnUpon, Coursebase APIs).

A threaded HTTP server in a daemon thread on a free loopback port (`sandboxes.loopback`): a
`request_log` of every API request (counts match the client's `request_count`); queued faults
(`fail(...)`, see `sandboxes.faults.Fault`) so retries, 429s, timeouts and error mapping are
exercised over real sockets; a per-request
`latency` with an optional random `jitter`; an optional token-bucket `rate_limit` (requests per
second, bursts of `burst`) answered with 429 and `Retry-After` as rate-limited APIs do, so a
client that ignores it fails here as it would upstream (`max_in_flight` records the most
requests answered at once, `state()["in_flight"]` those being answered now); control
endpoints for other processes (the demo, browser tests) outside the API paths:
``GET /_sandbox/state``, ``POST /_sandbox/scenario`` with JSON
``{"latency": 0.05, "jitter": 0.02, "rate_limit": 20, "burst": 20, "fail": [{...fail
kwargs...}], "reset_faults": true, "reset_log": true}`` plus a subclass's keys
(`scenario_keys`, `_apply_data_changes`). They are **not authenticated**: a sandbox listens
on loopback and refuses control requests from other clients (403). Never expose a sandbox on a
public interface.

Every kind (`sandboxes.udemy`, `.learnupon`, `.coursebase`) has the same shape: its seed data in
`data.py` (`generate(seed=..., ...)`, deterministic, `counts()` for `state`) and its server in
`server.py`, `Kind(data=None, *, host=..., port=..., latency=..., jitter=..., rate_limit=...,
burst=..., **vendor_options)` (no data: the kind's default data), or `Kind.generate(seed=...,
sizes..., server options...)`, which implements `_serve(request)` (the API) and may override
`_fault_body(fault)` (the vendor's error envelope).
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

from ..core.netutil import is_loopback_host
from .exchange import Reply, Request, html_page, json_reply, phrase
from .faults import Fault, TokenBucket
from .loopback import LoopbackServer, SandboxHandler

SCENARIO_KEYS = frozenset(
    {"latency", "jitter", "rate_limit", "burst", "fail", "reset_faults", "reset_log"}
)


class SandboxServer:
    """Lifecycle, request log, faults, latency and control API; the API is `_serve`."""

    name = "sandbox"
    api_prefix = "/api"
    server_version = "Sandbox/1.0"
    access_log_level = logging.DEBUG
    scenario_keys = SCENARIO_KEYS
    data_class: ClassVar[Any]  # the kind's data: `generate(seed=..., ...)`, `counts()`

    def __init__(
        self,
        data: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        jitter: float = 0.0,
        rate_limit: float = 0.0,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 0,
    ) -> None:
        self.data = data  # the kind's seed data; its `counts()` are part of `state()`
        self.host, self.port = host, port
        self.latency, self.jitter = latency, jitter
        self._clock = clock
        self._random = random.Random(seed)  # noqa: S311 - latency jitter, not security
        self._bucket: TokenBucket | None = None
        self.throttled = 0  # 429s answered by the rate limit
        self._in_flight = 0
        self.max_in_flight = 0  # the most API requests being answered at once
        self.set_rate_limit(rate_limit, burst)
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._log: list[dict] = []
        # Called with each API request's log entry once its reply is built (a test changes the
        # data between two pages with it).
        self.after_reply: Callable[[dict[str, Any]], None] | None = None
        self._stopping = threading.Event()
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def generate(cls, **options: Any) -> Self:
        """A sandbox over data generated for it: the options `data_class.generate` takes (seed,
        sizes) shape the data, the others configure the server; one both take goes to both
        (`seed`, which also seeds the latency jitter; Udemy's `organization_name`)."""
        shaping = inspect.signature(cls.data_class.generate).parameters
        serving = {*inspect.signature(cls).parameters, *inspect.signature(SandboxServer).parameters}
        data = cls.data_class.generate(**{k: v for k, v in options.items() if k in shaping})
        return cls(data, **{k: v for k, v in options.items() if k not in shaping or k in serving})

    # ------------------------------------------------------------------ lifecycle

    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        server = LoopbackServer((self.host, self.port), SandboxHandler)
        server.sandbox = self
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"{self.name}-{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping on latency or a hang
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_until(
        self, stop: threading.Event, on_ready: Callable[[dict[str, Any]], None]
    ) -> None:
        """Serve in the foreground: start, report the state to `on_ready`, and stop cleanly
        once `stop` is set (a SIGTERM handler sets it) or on Ctrl-C."""
        self.start()
        try:
            with suppress(KeyboardInterrupt):
                on_ready(self.state())
                while not stop.wait(0.5):
                    pass
        finally:
            self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def wait(self, seconds: float) -> None:
        """Sleep that `stop()` interrupts, so a stopped sandbox never lingers."""
        if seconds > 0:
            self._stopping.wait(seconds)

    # ------------------------------------------------------------------ faults and log

    def fail(self, **kwargs: Any) -> None:
        """Queue a fault (see `Fault`): the next `times` matching API requests get it."""
        fault = Fault(**kwargs)  # raises on a bad argument, before taking the lock
        with self._lock:
            self._faults.append(fault)

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def request_log(self) -> list[dict]:
        """{"method", "path", "query" (raw string), "status", "body"} of every API request, in
        order. The live list (appended under the lock): `request_log.clear()` resets it."""
        return self._log

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def writes(self) -> list[dict]:
        """The logged requests that change something (everything but reads)."""
        return [entry for entry in self._log if self.is_write(entry)]

    def is_write(self, entry: dict) -> bool:
        return entry["method"] in ("POST", "PUT", "PATCH", "DELETE")

    def set_rate_limit(self, rate: float, burst: int | None = None) -> None:
        """At most `rate` API requests per second (bursts of `burst`, by default one second's
        worth); 0 turns the limit off."""
        rate = float(rate or 0)
        self._bucket = (
            TokenBucket(rate, int(burst or math.ceil(rate)), self._clock) if rate > 0 else None
        )

    def state(self) -> dict[str, Any]:
        with self._lock:
            counts = {"requests": len(self._log), "faults": sum(f.times for f in self._faults)}
            limit = {
                "rate_limit": self._bucket.rate if self._bucket else 0,
                "burst": self._bucket.burst if self._bucket else 0,
                "throttled": self.throttled,
                "max_in_flight": self.max_in_flight,
                "in_flight": self._in_flight,  # e.g. a hung answer its client gave up on
            }
            return {
                **self._data_state(), **counts, **limit,
                "latency": self.latency, "jitter": self.jitter,
            }  # fmt: skip

    def _throttle(self) -> Reply | None:
        """The 429 of a spent rate budget (DRF's throttling answer, as Udemy's API gives it)."""
        if self._bucket is None:
            return None
        with self._lock:
            wait = self._bucket.take()
            if not wait:
                return None
            self.throttled += 1
        seconds = max(1, math.ceil(wait))
        return json_reply(
            429,
            {"detail": f"Request was throttled. Expected available in {seconds} seconds."},
            {"Retry-After": str(seconds)},
        )

    def begin_request(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def end_request(self) -> None:
        with self._lock:
            self._in_flight -= 1

    # ------------------------------------------------------------------ handling

    def respond(
        self, method: str, target: str, headers: Any, raw: bytes, client: str = "127.0.0.1"
    ) -> Reply:
        """The reply to one HTTP request (pure apart from the log and the fault queue)."""
        parts = urlsplit(target)
        if parts.path.startswith("/_sandbox/"):
            return self._control(method, parts.path, raw, client)
        if not parts.path.startswith(self.api_prefix):
            return json_reply(404, {"detail": "Not found."})
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = "<invalid json>"
        query = dict(parse_qsl(parts.query))
        request = Request(method, parts.path, query, headers, body, parts.query)
        throttled = self._throttle()
        fault = None if throttled else self._take_fault(method, target)
        if throttled is not None:
            reply = throttled
        elif fault is not None and fault.body != "hang":
            reply = self._fault_reply(fault, request)
        else:
            reply = self._serve(request)
            reply.delay = fault.hang_seconds if fault is not None else 0.0
        reply.delay += self.latency
        if self.jitter:
            with self._lock:
                reply.delay += self._random.uniform(0, self.jitter)
        entry = {"method": method, "path": parts.path, "query": parts.query}
        with self._lock:
            self._log.append({**entry, "status": reply.status, "body": body})
        if self.after_reply is not None:
            self.after_reply(entry)
        return reply

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            fault = next((f for f in self._faults if f.matches(method, target)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
        return fault

    def _fault_reply(self, fault: Fault, request: Request) -> Reply:
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        if fault.body == "html":
            return Reply(fault.status, html_page(fault.status), "text/html", headers)
        if fault.body == "empty":
            return Reply(fault.status, b"", "application/json", headers)
        body = self._fault_bytes(fault, request)
        if fault.body == "truncated":
            body = body[: max(1, len(body) // 2)]
        return Reply(fault.status, body, "application/json", headers)

    def _fault_bytes(self, fault: Fault, request: Request) -> bytes:
        body = self._fault_body(fault) if fault.payload is None else fault.payload
        return json.dumps(body).encode()

    def _fault_body(self, fault: Fault) -> Any:
        return {"message": phrase(fault.status)}

    def _serve(self, request: Request) -> Reply:  # pragma: no cover - overridden
        raise NotImplementedError

    def _data_state(self) -> dict[str, Any]:
        """The data's part of `state()`: what the kind's data counts (`counts()`)."""
        return self.data.counts()

    def _control(self, method: str, path: str, raw: bytes, client: str) -> Reply:
        if not is_loopback_host(client):
            return json_reply(403, {"detail": "The sandbox control API is loopback-only."})
        if path == "/_sandbox/state" and method == "GET":
            return json_reply(200, self.state())
        if path == "/_sandbox/scenario" and method == "POST":
            try:
                scenario = json.loads(raw or b"{}")
                if not isinstance(scenario, dict):
                    raise ValueError("the scenario must be a JSON object")
                return json_reply(200, self.apply_scenario(scenario))
            except (ValueError, TypeError, KeyError) as exc:
                return json_reply(400, {"detail": f"Invalid scenario: {exc}"})
        return json_reply(404, {"detail": "Not found."})

    def apply_scenario(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Apply a control scenario (see the module docstring); returns what changed."""
        unknown = set(scenario) - self.scenario_keys
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        result: dict[str, Any] = {"ok": True}
        with self._lock:
            if scenario.get("reset_faults"):
                self._faults.clear()
            if scenario.get("reset_log"):
                self._log.clear()
            if "latency" in scenario:
                self.latency = float(scenario["latency"])
            if "jitter" in scenario:
                self.jitter = float(scenario["jitter"])
            if "rate_limit" in scenario or "burst" in scenario:
                rate = scenario.get("rate_limit", self._bucket.rate if self._bucket else 0)
                self.set_rate_limit(float(rate), scenario.get("burst"))
            for kwargs in scenario.get("fail", []):
                self._faults.append(Fault(**kwargs))
            self._apply_data_changes(scenario, result)
        result["state"] = self.state()
        return result

    def _apply_data_changes(self, scenario: dict[str, Any], result: dict[str, Any]) -> None:
        """The subclass's scenario keys (data mutations), recorded in `result`."""
