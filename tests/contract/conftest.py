"""Backends for the contract suite: the same tests run against every Document API server given here.

- ``embedded``: the embedded Stargate-compatible server, started in this process (always).
- ``container``: a Stargate developer-mode container started with Testcontainers, one per test session:
  image ``STARGATE_IMAGE`` (default ``stargateio/stargate-4_0:v1.0.91``; ``orders-embedded-stargate:local``
  from ``scripts/docker/build-embedded-image.sh`` works the same way), ready within
  ``STARGATE_READY_TIMEOUT_S`` (default 300). Skipped, with the reason, when no Docker engine answers or
  the image is neither present nor pullable.
- ``external``: a running Stargate (or any Document API) given by environment variables:
  ``CONTRACT_STARGATE_URL`` (documents, e.g. http://localhost:8082), ``CONTRACT_STARGATE_AUTH_URL``
  (e.g. http://localhost:8081), ``CONTRACT_STARGATE_NAMESPACE`` (default ``contract``), and either
  ``CONTRACT_STARGATE_TOKEN`` or ``CONTRACT_STARGATE_USERNAME``/``CONTRACT_STARGATE_PASSWORD``
  (default cassandra/cassandra). Skipped, with that reason, when ``CONTRACT_STARGATE_URL`` is unset.

The run ends with a line naming the backends that ran and the ones skipped, with why. Set
``CONTRACT_REQUIRE_BACKENDS=container`` (comma-separated names) to fail the run when one of them did not
run, e.g. in CI where a skip would hide that real Stargate was never tested, and
``CONTRACT_SKIP_BACKENDS=container`` to leave one out (e.g. a quick local run on a machine with Docker).
The line and both settings are shared with the astrapy suite: ``contract_support/backend_report.py``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from localdev import schema
from localdev.stargate.server import DEFAULT_PASSWORD as EMBEDDED_PASSWORD
from localdev.stargate.server import DEFAULT_USERNAME as EMBEDDED_USERNAME
from orders_api.errors import StoreError
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken, Login, PasswordLogin, TokenSource
from tests.contract_support import backend_report

TIMEOUT = (3.05, 15.0)
BACKENDS = ("embedded", "container", "external")
# The session fixtures whose parameters are backends, and how the end-of-run line names them.
BACKEND_FIXTURES = {"backend": "contract backends", "data_backend": "data API contract backends"}


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

    def create_namespace(self) -> None:
        """Create the namespace (201, or 409 where it exists: both fine)."""
        session = new_session()
        schema.create_namespace(self.base_url, self.namespace, self.tokens(session), session, TIMEOUT)

    def documents(self, collection: str) -> StargateDocuments:
        session = new_session()
        return StargateDocuments(
            self.base_url, self.namespace, collection, self.tokens(session), session, TIMEOUT
        )


@pytest.fixture(scope="session")
def embedded_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    from localdev.stargate import start_in_thread

    server = start_in_thread(host="127.0.0.1", port=0, data_dir=Path(tmp_path_factory.mktemp("stargate")))
    backend = Backend(
        "embedded", server.url, server.url, "contract", login=Login(EMBEDDED_USERNAME, EMBEDDED_PASSWORD)
    )
    backend.create_namespace()
    yield backend
    server.stop()


@pytest.fixture(scope="session")
def container_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """One Stargate container for the whole session, removed at its end."""
    from tests.contract_support.stargate_container import (
        BackendUnavailable,
        StargateContainerSettings,
        start_stargate,
    )

    settings = StargateContainerSettings.from_env()
    try:
        stargate = start_stargate(settings)
    except BackendUnavailable as unavailable:
        pytest.skip(f"container backend: {unavailable}")
    try:
        _run_details(request.config)["container"] = (
            f"{stargate.image}, ready in {stargate.seconds_to_ready:.1f} s, "
            f"token in {stargate.seconds_to_token:.1f} s{'' if stargate.reaper else ', without Ryuk'}"
        )
        backend = Backend(
            "container",
            stargate.documents_url,
            stargate.auth_url,
            "contract",
            login=Login(EMBEDDED_USERNAME, EMBEDDED_PASSWORD),
        )
        _create_namespace_once_schema_is_ready(backend, timeout_s=60.0)
        yield backend
    finally:
        stargate.stop()


def _create_namespace_once_schema_is_ready(backend: Backend, timeout_s: float) -> None:
    """Create the namespace (201, or 409 where it exists: both fine), retrying for a while: right after
    start-up a real Stargate may still refuse schema changes even though it hands out tokens."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            backend.create_namespace()
            return
        except StoreError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(2.0)


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


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param in backends_skipped_by_choice():
        pytest.skip(f"{request.param} backend: listed in CONTRACT_SKIP_BACKENDS")
    if request.param == "embedded":
        return request.getfixturevalue("embedded_backend")  # type: ignore[no-any-return]
    if request.param == "container":
        return request.getfixturevalue("container_backend")  # type: ignore[no-any-return]
    external = external_backend()
    if external is None:
        pytest.skip("external Stargate backend: CONTRACT_STARGATE_URL is not set")
    external.create_namespace()
    return external


@pytest.fixture
def collection() -> str:
    """A fresh collection per test, so tests never see each other's documents."""
    return f"c{uuid.uuid4().hex[:20]}"


@pytest.fixture
def documents(backend: Backend, collection: str) -> StargateDocuments:
    return backend.documents(collection)


# --- The end-of-run line (contract_support/backend_report.py): which backends ran, and why not. ---


def pytest_configure(config: pytest.Config) -> None:
    backend_report.register(config, BACKEND_FIXTURES)


def _run_details(config: pytest.Config) -> dict[str, str]:
    """Extra words shown after a backend's name in the end-of-run line (e.g. the image it ran)."""
    return backend_report.run_details(config)


def backends_skipped_by_choice() -> set[str]:
    return backend_report.skipped_by_choice()
