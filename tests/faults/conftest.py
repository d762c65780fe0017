"""Fixtures for fault tests: the embedded store, a fault proxy in front of it, and dead endpoints.

- ``embedded_store`` (session): the embedded Stargate-compatible server (``localdev.stargate``) on a free
  loopback port over a temporary data directory, with a ``/v1/auth`` token and the namespace
  ``faults`` (which is also the Data API keyspace ``faults``: the server shares them). Stopped at the
  end of the session.
- ``fault_proxy`` (function): a started :class:`FaultProxy` in front of the embedded store, with no
  rules; point the client under test at ``fault_proxy.url`` (Document API, ``/v1/auth``) or
  ``f"{fault_proxy.url}/api/json"`` (Data API). Stopped after the test.
- ``refused_endpoint`` / ``hanging_endpoint`` (function): URLs where connecting is refused, or hangs.
- ``collection_name``: a fresh collection name per test, so tests never see each other's documents.
- ``store_api`` (both APIs), ``connect`` (points the function's store at a URL with short timeouts) and
  ``proxied`` (the function's store behind the fault proxy): for tests through ``lambda_handler``.

Import the proxy's names in test modules here with ``from .proxy import ...``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from localdev.stargate import RunningServer, start_in_thread
from localdev.stargate.server import DEFAULT_PASSWORD, DEFAULT_USERNAME
from orders_api import names
from orders_api.settings import StoreSettings
from orders_api.store import factory
from orders_api.store.http import new_session

from .proxy import FaultProxy, hanging_url, refused_url

NAMESPACE = "faults"
_SETUP_TIMEOUT = (3.0, 10.0)


@dataclass(frozen=True)
class EmbeddedStore:
    """The embedded store as a test sees it."""

    server: RunningServer
    token: str
    """A ``/v1/auth`` token, good for ``X-Cassandra-Token`` (Document API) and ``Token`` (Data API)."""
    namespace: str
    """An existing namespace (Document API) / keyspace (Data API)."""

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: Document API under ``/v2``, auth at ``/v1/auth``."""
        return self.server.url

    @property
    def data_api_url(self) -> str:
        """The Data API base URL a Data API client takes (it appends ``/v1/<keyspace>/<collection>``)."""
        return f"{self.server.url}/api/json"

    @property
    def headers(self) -> dict[str, str]:
        """Both dialects' token headers, for calls a test makes directly."""
        return {"X-Cassandra-Token": self.token, "Token": self.token}


@pytest.fixture(scope="session")
def embedded_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    server = start_in_thread(host="127.0.0.1", port=0, data_dir=Path(tmp_path_factory.mktemp("faults-store")))
    try:
        with requests.Session() as http:
            auth = http.post(
                f"{server.url}/v1/auth",
                json={"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD},
                timeout=_SETUP_TIMEOUT,
            )
            assert auth.status_code == 201, auth.text
            token: str = auth.json()["authToken"]
            created = http.post(
                f"{server.url}/v2/schemas/namespaces",
                json={"name": NAMESPACE},
                headers={"X-Cassandra-Token": token},
                timeout=_SETUP_TIMEOUT,
            )
            assert created.status_code in (201, 409), created.text
        yield EmbeddedStore(server, token, NAMESPACE)
    finally:
        server.stop()


@pytest.fixture
def fault_proxy(embedded_store: EmbeddedStore) -> Iterator[FaultProxy]:
    with FaultProxy(embedded_store.url) as proxy:
        yield proxy


@pytest.fixture
def refused_endpoint() -> str:
    return refused_url()


@pytest.fixture
def hanging_endpoint() -> Iterator[str]:
    with hanging_url() as url:
        yield url


@pytest.fixture
def collection_name() -> str:
    return f"c{uuid.uuid4().hex[:20]}"


@pytest.fixture(params=["data", "documents"])
def store_api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(
    monkeypatch: pytest.MonkeyPatch, embedded_store: EmbeddedStore, store_api: str, collection_name: str
) -> Callable[..., None]:
    """Points the function's store at ``url`` (default: the fault proxy) with short timeouts."""

    def point_at(url: str, connect_timeout: float = 0.5, read_timeout: float = 1.0, token: str = "") -> None:
        base = f"{url}/api/json" if store_api == "data" else url
        settings = StoreSettings.from_env(
            {
                names.ORDERS_STORE_API: store_api,
                names.STORE_URL: base,
                names.STORE_NAMESPACE: embedded_store.namespace,
                names.STORE_COLLECTION: collection_name,
                names.STORE_TOKEN: token or embedded_store.token,
                names.STORE_CONNECT_TIMEOUT: str(connect_timeout),
                names.STORE_READ_TIMEOUT: str(read_timeout),
            }
        )
        monkeypatch.setattr(factory, "_store", factory.build_store(settings, new_session()))

    return point_at


@pytest.fixture
def proxied(connect: Callable[..., None], fault_proxy: FaultProxy) -> Iterator[FaultProxy]:
    connect(fault_proxy.url)
    yield fault_proxy
    fault_proxy.settle()
