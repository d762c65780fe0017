"""Fixtures: a server on a free port over a temporary data directory, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from localdev.stargate import RunningServer, start_in_thread
from localdev.stargate.server import DEFAULT_PASSWORD as EMBEDDED_PASSWORD
from localdev.stargate.server import DEFAULT_USERNAME as EMBEDDED_USERNAME

from .docs_client import TIMEOUT, DocsClient

NAMESPACE = "orders_test"
COLLECTION_PATH = f"/v2/namespaces/{NAMESPACE}/collections/orders"


class FakeClock:
    """Time that only moves when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stargate(data_dir: Path, clock: FakeClock) -> Iterator[RunningServer]:
    server = start_in_thread(host="127.0.0.1", port=0, data_dir=data_dir, clock=clock)
    yield server
    server.stop()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def fetch_token(base_url: str, session: requests.Session) -> str:
    response = session.post(
        f"{base_url}/v1/auth",
        json={"username": EMBEDDED_USERNAME, "password": EMBEDDED_PASSWORD},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["authToken"]
    return token


@pytest.fixture
def token(stargate: RunningServer, session: requests.Session) -> str:
    return fetch_token(stargate.url, session)


@pytest.fixture
def client(stargate: RunningServer, session: requests.Session, token: str) -> DocsClient:
    return DocsClient(stargate.url, session, token)


@pytest.fixture
def namespace(client: DocsClient) -> str:
    response = client.post("/v2/schemas/namespaces", json={"name": NAMESPACE})
    assert response.status_code == 201, response.text
    return NAMESPACE


@pytest.fixture
def orders(namespace: str) -> str:
    """The path of a collection (created by the first write) in an existing namespace."""
    return COLLECTION_PATH
