"""Wiring the dialects to ports: the shared backend, the roles a server plays, ``start_in_thread``.

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

import enum
import os
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from localdev.stargate.core.auth import AuthApi, TokenAuthority
from localdev.stargate.core.database import Database
from localdev.stargate.core.health import HealthApi
from localdev.stargate.core.http import StargateHTTPServer
from localdev.stargate.core.routing import Router
from localdev.stargate.core.storage import EmulatorStore
from localdev.stargate.core.tokens import TokenStore
from localdev.stargate.data_api.collection import DATA_API_FIND_PAGE_SIZE
from localdev.stargate.data_api.exceptions import ErrorNames
from localdev.stargate.data_api.responses import DataApi, DataApiSettings
from localdev.stargate.document_api.responses import DocumentApi

DATABASE_FILE = "stargate.sqlite3"
DEFAULT_USERNAME = "cassandra"
DEFAULT_PASSWORD = "cassandra"  # noqa: S105 - the public developer-mode default; `make run` and the tests sign in with it too


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
    data_api_page_size: int = DATA_API_FIND_PAGE_SIZE,
    data_api_error_names: ErrorNames = "current",
    data_api_latency_ms: int = 0,
) -> RunningServer:
    """Start a Stargate-compatible server on a background thread and return at once.

    ``port=0`` picks a free port (read it from ``.port`` / ``.url``). Data lives in
    ``<data_dir>/stargate.sqlite3``. ``token`` is an extra token that never expires. Pass
    ``backend`` (from ``open_backend``) to share one store between several servers, e.g. one per
    role; ``data_dir``, ``token`` and ``clock`` are then ignored and the caller closes the backend.
    ``data_api_page_size`` is the Data API's ``find`` page size (20 by default, 50 on newer servers)
    and ``data_api_error_names`` picks its ``"current"`` or ``"legacy"`` error codes;
    ``data_api_latency_ms`` delays each Data API answer, as a remote database's would be.
    """
    settings = DataApiSettings(
        page_size=data_api_page_size, error_names=data_api_error_names, latency_ms=data_api_latency_ms
    )
    owns_backend = backend is None
    shared = backend or open_backend(data_dir, token=token, clock=clock)
    try:
        httpd = StargateHTTPServer((host, port), build_router(shared, roles, settings), verbose=verbose)
    except BaseException:
        if owns_backend:
            shared.close()
        raise
    return RunningServer(httpd, shared, roles=frozenset(roles), owns_backend=owns_backend)
