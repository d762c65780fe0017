"""Backends for the contract suite: the same tests run against every Document API server given here.

- ``embedded``: the embedded Stargate-compatible server, started in this process (always).
- ``external``: a running Stargate (or any Document API) given by environment variables:
  ``CONTRACT_STARGATE_URL`` (documents, e.g. http://localhost:8082), ``CONTRACT_STARGATE_AUTH_URL``
  (e.g. http://localhost:8081), ``CONTRACT_STARGATE_NAMESPACE`` (default ``contract``), and either
  ``CONTRACT_STARGATE_TOKEN`` or ``CONTRACT_STARGATE_USERNAME``/``CONTRACT_STARGATE_PASSWORD``
  (default cassandra/cassandra). Skipped, with that reason, when ``CONTRACT_STARGATE_URL`` is unset.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from orders_api.store.http import new_session
from orders_api.store.stargate_documents import StargateDocuments
from orders_api.store.tokens import FixedToken, Login, PasswordLogin, TokenSource

TIMEOUT = (3.05, 15.0)


@dataclass(frozen=True)
class Backend:
    """Where a Document API server is and how to log in."""

    name: str
    base_url: str
    auth_url: str
    namespace: str
    login: Login | None = None
    token: str | None = None

    def tokens(self, session: requests.Session) -> TokenSource:
        if self.token:
            return FixedToken(self.token)
        assert self.login is not None
        return PasswordLogin(self.auth_url, self.login, session, TIMEOUT)

    def documents(self, collection: str) -> StargateDocuments:
        session = new_session()
        return StargateDocuments(
            self.base_url, self.namespace, collection, self.tokens(session), session, TIMEOUT
        )


@pytest.fixture(scope="session")
def embedded_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    from localdev.stargate import start_in_thread

    server = start_in_thread(host="127.0.0.1", port=0, data_dir=Path(tmp_path_factory.mktemp("stargate")))
    backend = Backend("embedded", server.url, server.url, "contract", login=Login("cassandra", "cassandra"))
    backend.documents("unused").create_namespace()
    yield backend
    server.stop()


def external_backend() -> Backend | None:
    url = os.environ.get("CONTRACT_STARGATE_URL")
    if not url:
        return None
    token = os.environ.get("CONTRACT_STARGATE_TOKEN")
    login = (
        None
        if token
        else Login(
            os.environ.get("CONTRACT_STARGATE_USERNAME", "cassandra"),
            os.environ.get("CONTRACT_STARGATE_PASSWORD", "cassandra"),
        )
    )
    return Backend(
        "external",
        url.rstrip("/"),
        os.environ.get("CONTRACT_STARGATE_AUTH_URL", url).rstrip("/"),
        os.environ.get("CONTRACT_STARGATE_NAMESPACE", "contract"),
        login=login,
        token=token,
    )


@pytest.fixture(scope="session", params=["embedded", "external"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "embedded":
        return request.getfixturevalue("embedded_backend")  # type: ignore[no-any-return]
    external = external_backend()
    if external is None:
        pytest.skip("external Stargate backend: CONTRACT_STARGATE_URL is not set")
    external.documents("unused").create_namespace()
    return external


@pytest.fixture
def collection() -> str:
    """A fresh collection per test, so tests never see each other's documents."""
    return f"c{uuid.uuid4().hex[:20]}"


@pytest.fixture
def documents(backend: Backend, collection: str) -> StargateDocuments:
    return backend.documents(collection)
