"""The HTTP server: a ``ThreadingHTTPServer`` that feeds requests to the routers of chosen roles.

By default one port serves every role (auth, Document API, Data API, health checker). To mimic the
images' separate ports (Stargate: 8081 auth, 8082 documents, 8084 health; Data API: 8181), open one
backend and start one server per role over it::

    backend = open_backend(data_dir)
    auth = start_in_thread(port=8081, roles={Role.AUTH}, backend=backend)
    docs = start_in_thread(port=8082, roles={Role.DOCUMENTS}, backend=backend)
    checker = start_in_thread(port=8084, roles={Role.HEALTH}, backend=backend)
    ...
    for server in (auth, docs, checker):
        server.stop()
    backend.close()
"""

from __future__ import annotations

import contextlib
import enum
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from localdev.stargate.core.auth import AuthApi, TokenAuthority
from localdev.stargate.core.database import Database
from localdev.stargate.core.health import HealthApi
from localdev.stargate.core.routing import Request, Response, Router, json_response, parse_query
from localdev.stargate.core.storage import EmulatorStore
from localdev.stargate.core.tokens import TokenStore
from localdev.stargate.data_api.collection import DEFAULT_PAGE_SIZE
from localdev.stargate.data_api.exceptions import ErrorNames
from localdev.stargate.data_api.responses import DataApi, DataApiSettings
from localdev.stargate.document_api.responses import DocumentApi

DATABASE_FILE = "stargate.sqlite3"
DEFAULT_USERNAME = "cassandra"
DEFAULT_PASSWORD = "cassandra"  # noqa: S105 - the public developer-mode default
# Far above the documented 1 MB document limit, so batches fit, yet a bound on memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
# An idle keep-alive connection is dropped after this long, which frees its thread.
_IDLE_CONNECTION_TIMEOUT_S = 60.0


class Role(enum.Enum):
    """A group of routes that Stargate serves on its own port."""

    AUTH = "auth"  # POST /v1/auth (8081 in the Stargate image)
    DOCUMENTS = "documents"  # /v2/... and /health (8082)
    HEALTH = "health"  # /checker/liveness and /checker/readiness (8084)
    DATA_API = "data_api"  # /api/json/v1/... (the Data API image listens on 8181)


ALL_ROLES: frozenset[Role] = frozenset(Role)


@dataclass
class StargateBackend:
    """Everything the servers share: the database, the document store and the tokens."""

    database: Database
    store: EmulatorStore
    tokens: TokenStore
    authority: TokenAuthority
    username: str
    password: str
    clock: Callable[[], float]

    def close(self) -> None:
        """Close the database (after the servers using it have stopped)."""
        self.database.close()


def open_backend(
    data_dir: str | os.PathLike[str] = ".local-data",
    *,
    token: str | None = None,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    clock: Callable[[], float] = time.time,
) -> StargateBackend:
    """Open (creating if needed) ``<data_dir>/stargate.sqlite3``.

    ``token``, when given, is accepted as ``X-Cassandra-Token`` (and as the Data API's ``Token``)
    without calling ``/v1/auth`` and never expires (handy with curl). ``username``/``password`` are
    what ``/v1/auth`` and the Data API's ``Cassandra:<b64>:<b64>`` tokens must carry. ``clock`` exists
    so tests can move time forward.
    """
    database = Database(Path(data_dir) / DATABASE_FILE)
    tokens = TokenStore(database, clock=clock)
    return StargateBackend(
        database=database,
        store=EmulatorStore(database, clock=clock),
        tokens=tokens,
        authority=TokenAuthority(tokens, fixed_token=token, username=username, password=password),
        username=username,
        password=password,
        clock=clock,
    )


def build_router(
    backend: StargateBackend,
    roles: Collection[Role] = ALL_ROLES,
    data_api: DataApiSettings | None = None,
) -> Router:
    """The routes of the given roles over ``backend``."""
    router = Router()
    health = HealthApi(backend.store)
    if Role.AUTH in roles:
        router.add(AuthApi(backend.tokens, username=backend.username, password=backend.password).routes())
    if Role.DOCUMENTS in roles:
        router.add(DocumentApi(backend.store, backend.authority, clock=backend.clock).routes())
        router.add(health.documents_routes())
    if Role.HEALTH in roles:
        router.add(health.checker_routes())
    if Role.DATA_API in roles:
        router.add(DataApi(backend.store, backend.authority, data_api, clock=backend.clock).routes())
    return router


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


class RunningServer:
    """A server running on a background thread."""

    def __init__(
        self,
        httpd: StargateHTTPServer,
        backend: StargateBackend,
        *,
        roles: frozenset[Role],
        owns_backend: bool,
    ) -> None:
        """Start serving ``httpd``; ``stop`` closes ``backend`` too when ``owns_backend``."""
        self.backend = backend
        self.roles = roles
        self._httpd = httpd
        self._owns_backend = owns_backend
        self._stopped = False
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            # A short poll keeps stop() quick (tests start and stop a server each); the idle cost is
            # one select() call every 10 ms.
            kwargs={"poll_interval": 0.01},
            name="stargate-server",
            daemon=True,
        )
        self._thread.start()

    @property
    def host(self) -> str:
        """The address clients should use (a wildcard bind is reached through loopback)."""
        bound = str(self._httpd.server_address[0])
        if bound in ("", "0.0.0.0"):
            return "127.0.0.1"
        if bound == "::":
            return "::1"
        return bound

    @property
    def port(self) -> int:
        """The port actually bound (useful after asking for port 0)."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop accepting, hang up on open connections, and close the backend if owned. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections(timeout_s)
        self._thread.join(timeout_s)
        if self._owns_backend:
            self.backend.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: str | os.PathLike[str] = ".local-data",
    *,
    token: str | None = None,
    roles: Collection[Role] = ALL_ROLES,
    verbose: bool = False,
    backend: StargateBackend | None = None,
    clock: Callable[[], float] = time.time,
    data_api_page_size: int = DEFAULT_PAGE_SIZE,
    data_api_error_names: ErrorNames = "current",
) -> RunningServer:
    """Start a Stargate-compatible server on a background thread and return at once.

    ``port=0`` picks a free port (read it from ``.port`` / ``.url``). Data lives in
    ``<data_dir>/stargate.sqlite3``. ``token`` is an extra token that never expires. Pass
    ``backend`` (from ``open_backend``) to share one store between several servers, e.g. one per
    role; ``data_dir``, ``token`` and ``clock`` are then ignored and the caller closes the backend.
    ``data_api_page_size`` is the Data API's ``find`` page size (20 by default, 50 on newer servers)
    and ``data_api_error_names`` picks its ``"current"`` or ``"legacy"`` error codes.
    """
    settings = DataApiSettings(page_size=data_api_page_size, error_names=data_api_error_names)
    owns_backend = backend is None
    shared = backend or open_backend(data_dir, token=token, clock=clock)
    try:
        httpd = StargateHTTPServer((host, port), build_router(shared, roles, settings), verbose=verbose)
    except BaseException:
        if owns_backend:
            shared.close()
        raise
    return RunningServer(httpd, shared, roles=frozenset(roles), owns_backend=owns_backend)
