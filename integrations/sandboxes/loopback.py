"""The threaded loopback HTTP server under every sandbox (`sandboxes.base.SandboxServer`): one
thread per connection, keep-alive like the real APIs, connections cut when the sandbox stops,
and a handler that hands each request to the sandbox and sends back its reply.
"""

from __future__ import annotations

import logging
import socket
import threading
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Responder(Protocol):
    """What the server asks of the sandbox behind it (`sandboxes.base.SandboxServer`)."""

    server_version: str
    access_log_level: int

    def respond(self, method: str, target: str, headers: Any, raw: bytes, client: str) -> Any: ...

    def begin_request(self) -> None: ...

    def end_request(self) -> None: ...

    def wait(self, seconds: float) -> None: ...


class LoopbackServer(ThreadingHTTPServer):
    """One thread per connection, every connection cut on `close_connections()`."""

    daemon_threads = True
    allow_reuse_address = True
    sandbox: Responder

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
        """Cut keep-alive connections: `shutdown()` only stops accepting new ones, and a stopped
        sandbox must not keep answering a client's pooled connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected here (hang faults): no traceback spam.
        logger.debug("sandbox connection from %s ended abruptly", client_address, exc_info=True)


class SandboxHandler(BaseHTTPRequestHandler):
    """Reads one request, asks the sandbox for its reply, waits out its delay, sends it."""

    # Headers and body leave in one segment: with the default unbuffered writes, Nagle plus the
    # client's delayed ACK hold every response for the ACK timeout, which would swamp latency
    # figures.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs behind their load balancers
    timeout = 120  # idle keep-alive connections end; their handler threads with them
    server: LoopbackServer

    def version_string(self) -> str:
        return self.server.sandbox.server_version

    def do_GET(self) -> None:  # one handler for every method (`command` names it)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        sandbox = self.server.sandbox
        sandbox.begin_request()
        try:
            reply = sandbox.respond(
                self.command, self.path, self.headers, raw, self.client_address[0]
            )
            sandbox.wait(reply.delay)
        finally:
            sandbox.end_request()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): nothing to answer

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        level = self.server.sandbox.access_log_level
        logger.log(level, "sandbox %s %s", self.address_string(), format % args)
