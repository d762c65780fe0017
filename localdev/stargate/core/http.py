"""The HTTP server: a ``ThreadingHTTPServer`` that turns each request into a ``Request`` for a router.

It reads bodies (``Content-Length`` or chunked, at most ``MAX_BODY_BYTES``), keeps connections alive
as ``requests.Session`` expects, answers 500 with the traceback on stderr when a handler fails, and
can hang up on every open connection when stopping.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from localdev.stargate.core.routing import Request, Response, Router, json_response, parse_query

# Far above the documented 1 MB document limit, so batches fit, yet a bound on memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
# An idle keep-alive connection is dropped after this long, which frees its thread.
_IDLE_CONNECTION_TIMEOUT_S = 60.0


class _BodyTooLarge(Exception):
    pass


class _RequestHandler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a ``Request`` for the router, and its ``Response`` back."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a requests.Session expects
    server_version = "StargateLocal/1"
    sys_version = ""
    timeout = _IDLE_CONNECTION_TIMEOUT_S
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait ~40 ms each.
    disable_nagle_algorithm = True
    server: StargateHTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self._send(
                json_response(413, {"description": "Request body too large.", "code": 413}), close=True
            )
            return
        except ValueError:
            self._send(
                json_response(400, {"description": "Malformed request body framing.", "code": 400}),
                close=True,
            )
            return
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_query(url.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            host=self.headers.get("Host", ""),
        )
        try:
            response = self.server.router.dispatch(request)
        except Exception as error:
            # A bug, not a client mistake: always show the traceback, even when quiet.
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, {"description": f"Server error: {error!r}", "code": 500})
        self._send(response)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError(length)
        if length > MAX_BODY_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                # Skip trailers up to the blank line.
                while self.rfile.readline().strip():
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response: Response, *, close: bool = False) -> None:
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.status != 204:  # a 204 must not carry Content-Length
                self.send_header("Content-Length", str(len(response.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if response.body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class StargateHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that can close its open connections when stopping."""

    daemon_threads = True
    # Connections waiting to be accepted: astrapy's async insert_many opens 20 at once, and the default
    # of 5 reset some of them. The kernel caps it at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], router: Router, *, verbose: bool = False) -> None:
        """Bind ``address`` (port 0 picks a free port) and serve ``router``."""
        self.router = router
        self.verbose = verbose
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a connection on its own thread, remembering both so ``stop`` can end them."""
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), name="stargate-conn", daemon=True
        )
        with self._lock:
            self._connections.add(request)
            self._workers.add(thread)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors (a client going away) are only worth showing when verbose."""
        if self.verbose:
            super().handle_error(request, client_address)

    def close_connections(self, timeout_s: float) -> None:
        """Hang up on every open connection and wait up to ``timeout_s`` for their threads."""
        with self._lock:
            connections, workers = list(self._connections), list(self._workers)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout_s
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
