"""The loopback HTTP server under the platform sandboxes (LearnUpon, Coursebase).

Same style as `integrations/providers/udemy/sandbox.py`: a `ThreadingHTTPServer` in a daemon
thread on a free loopback port, a `request_log` of every API request (method, path, query,
status, decoded JSON body), and queued faults (`fail(...)`: a status with an optional
`Retry-After`, an HTML page, a truncated body, or a vendor error code) so retries, 429s and error
mapping are exercised over real sockets. Subclasses implement `_serve(request)` (the API) and
`_fault_body(fault)` (the vendor's error envelope).

Never expose a sandbox on a public interface: it is a development and test tool.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

FAULT_BODIES = ("json", "html", "truncated")


@dataclass
class Fault:
    """One queued misbehaviour; each matching API request consumes one of `times`."""

    path_contains: str = ""
    method: str = ""  # "" matches any method
    status: int = 503
    times: int = 1
    retry_after: float | None = None
    body: str = "json"
    error_code: str = ""  # vendor error code for the JSON body (Coursebase's "error")

    def __post_init__(self) -> None:
        if self.body not in FAULT_BODIES:
            raise ValueError(f"body must be one of {FAULT_BODIES}, not {self.body!r}")
        if int(self.times) < 1:
            raise ValueError("times must be at least 1")
        self.status, self.times = int(self.status), int(self.times)

    def matches(self, method: str, target: str) -> bool:
        return self.path_contains in target and self.method in ("", method)


@dataclass
class Request:
    """One API request as the sandbox sees it (query as a dict, JSON body decoded)."""

    method: str
    path: str
    query: dict[str, str]
    headers: Any
    body: Any


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=dict(headers or {}))


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def html_page(status: int) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>{status} {phrase(status)}</title></head>"
        f"<body><h1>{phrase(status)}</h1><p>Please try again later.</p></body></html>"
    ).encode()


class SandboxServer:
    """Lifecycle, request log and faults; the API itself is the subclass's `_serve`."""

    name = "platform-sandbox"
    api_prefix = "/api"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._log: list[dict] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self):
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
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
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # ------------------------------------------------------------------ faults and log

    def fail(self, **kwargs: Any) -> None:
        """Queue a fault (see `Fault`): the next `times` matching API requests get it."""
        with self._lock:
            self._faults.append(Fault(**kwargs))

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def request_log(self) -> list[dict]:
        """{"method", "path", "query", "status", "body"} of every API request, in order."""
        return self._log

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def writes(self) -> list[dict]:
        """The logged requests that change something (everything but reads)."""
        return [entry for entry in self._log if self.is_write(entry)]

    def is_write(self, entry: dict) -> bool:
        return entry["method"] in ("POST", "PUT", "PATCH", "DELETE")

    # ------------------------------------------------------------------ handling

    def respond(self, method: str, target: str, headers: Any, raw: bytes) -> Reply:
        parts = urlsplit(target)
        if not parts.path.startswith(self.api_prefix):
            return json_reply(404, {"detail": "Not found."})
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = "<invalid json>"
        request = Request(method, parts.path, dict(parse_qsl(parts.query)), headers, body)
        fault = self._take_fault(method, target)
        reply = self._fault_reply(fault, request) if fault else self._serve(request)
        with self._lock:
            self._log.append(
                {
                    "method": method,
                    "path": parts.path,
                    "query": parts.query,
                    "status": reply.status,
                    "body": body,
                }
            )
        return reply

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, target):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _fault_reply(self, fault: Fault, request: Request) -> Reply:
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        if fault.body == "html":
            return Reply(fault.status, html_page(fault.status), "text/html", headers)
        body = json.dumps(self._fault_body(fault)).encode()
        if fault.body == "truncated":
            body = body[: max(1, len(body) // 2)]
        return Reply(fault.status, body, "application/json", headers)

    def _fault_body(self, fault: Fault) -> Any:  # pragma: no cover - overridden
        return {"message": phrase(fault.status)}

    def _serve(self, request: Request) -> Reply:  # pragma: no cover - overridden
        raise NotImplementedError


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        with self._connections_lock:
            self._connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut keep-alive connections: a stopped sandbox must not answer a pooled connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("sandbox connection from %s ended abruptly", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    # Headers and body leave in one segment (flushed after each request), without Nagle: a
    # split answer costs ~40 ms per request on loopback (delayed ACK).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _Server
    server_version = "PlatformSandbox/1.0"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        reply = self.server.sandbox.respond(method, self.path, self.headers, raw)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox %s %s", self.address_string(), format % args)
