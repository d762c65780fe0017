"""Backends for the astrapy suite: the same tests, through DataStax's own Data API client, against every
Data API given here.

- ``embedded``: the embedded server as ``make stargate`` serves it, started in this process (always);
  ``embedded-page50-legacy`` too: the page size of newer real servers with the older error names.
- ``compose``: a self-hosted Data API beside DSE 6.9, started by Testcontainers' Docker Compose support
  (``contract_support/data_api_stack.py``, shared with the Data API contract suite); skipped, with
  the reason, where Docker or its images are unavailable.
- ``external``: a Data API given by ``CONTRACT_DATA_API_URL`` (an Astra endpoint such as
  ``https://<db-id>-<region>.apps.astra.datastax.com/api/json``, or ``http://localhost:8181``),
  ``CONTRACT_DATA_API_TOKEN`` (``AstraCS:...``, or ``Cassandra:<b64 user>:<b64 password>``) and
  ``CONTRACT_DATA_API_KEYSPACE`` (default ``default_keyspace``); skipped, with that reason, when unset.

``CONTRACT_SKIP_BACKENDS`` and ``CONTRACT_REQUIRE_BACKENDS`` apply as in the contract suites, and the
run ends with a line naming the backends that ran (``contract_support/backend_report.py``).

Against the embedded server every request astrapy sends during a test is checked against the
coverage table in ``localdev/stargate/COVERAGE.md`` (see ``coverage.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from astrapy import Collection, DataAPIClient, Database
from astrapy.api_options import APIOptions, DataAPIURLOptions
from astrapy.authentication import TokenProvider, UsernamePasswordTokenProvider
from astrapy.event_observers import Observer

from tests.contract_support import backend_report

from .coverage import CommandRecorder, coverage_problems

EMBEDDED_VARIANTS = {
    "embedded": {"data_api_page_size": 20, "data_api_error_names": "current"},
    "embedded-page50-legacy": {"data_api_page_size": 50, "data_api_error_names": "legacy"},
}
BACKENDS = (*EMBEDDED_VARIANTS, "compose", "external")
EMBEDDED_KEYSPACE = "astrapy_suite"


@dataclass(frozen=True)
class AstraBackend:
    """A Data API and how astrapy reaches it."""

    name: str
    api_endpoint: str  # scheme://host[:port], as astrapy wants it
    api_path: str  # what comes before /v1: "/api/json" on Astra and the embedded server, "" self-hosted
    environment: str  # astrapy's: "prod" for Astra, "hcd" (any non-Astra Data API) otherwise
    token: str | TokenProvider
    keyspace: str
    recorder: CommandRecorder | None = field(default=None, compare=False)

    @property
    def is_astra(self) -> bool:
        """Astra manages keyspaces through its DevOps API, not through Data API commands."""
        return self.environment != "hcd"

    @property
    def is_emulator(self) -> bool:
        return self.recorder is not None

    def client(self) -> DataAPIClient:
        observers: dict[str, Observer] = {"coverage": self.recorder} if self.recorder else {}
        return DataAPIClient(
            environment=self.environment,
            api_options=APIOptions(
                data_api_url_options=DataAPIURLOptions(api_path=self.api_path),
                event_observers=observers,
            ),
        )

    def database(self, keyspace: str | None = None) -> Database:
        return self.client().get_database(
            self.api_endpoint, token=self.token, keyspace=keyspace or self.keyspace
        )


def split_data_api_url(url: str) -> tuple[str, str, str]:
    """``https://db-region.apps.astra.datastax.com/api/json`` -> endpoint, api path and environment."""
    parts = urlsplit(url.rstrip("/"))
    host = parts.hostname or ""
    environment = "hcd"
    for domain, name in ((".apps.astra.datastax.com", "prod"), (".apps.astra-dev.datastax.com", "dev")):
        if host.endswith(domain):
            environment = name
    return f"{parts.scheme}://{parts.netloc}", parts.path, environment


def pytest_configure(config: pytest.Config) -> None:
    backend_report.register(config, {"astra_backend": "astrapy suite backends"})


@pytest.fixture(scope="session", params=BACKENDS)
def astra_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AstraBackend]:
    name: str = request.param
    if name in backend_report.skipped_by_choice():
        pytest.skip(f"{name} backend: listed in CONTRACT_SKIP_BACKENDS")
    if name == "compose":
        from tests.contract_support.data_api_stack import KEYSPACE, shared_data_api_stack
        from tests.contract_support.stargate_container import BackendUnavailable

        try:
            stack = shared_data_api_stack(request.config)
        except BackendUnavailable as reason:
            pytest.skip(f"compose Data API backend: {reason}")
        yield AstraBackend(name, stack.base_url, "", "hcd", stack.token, KEYSPACE)
        return
    if name == "external":
        url = os.environ.get("CONTRACT_DATA_API_URL")
        token = os.environ.get("CONTRACT_DATA_API_TOKEN")
        if not url or not token:
            pytest.skip(
                "external Data API backend: CONTRACT_DATA_API_URL / CONTRACT_DATA_API_TOKEN are not set"
            )
        endpoint, api_path, environment = split_data_api_url(url)
        keyspace = os.environ.get("CONTRACT_DATA_API_KEYSPACE", "default_keyspace")
        yield AstraBackend(name, endpoint, api_path, environment, token, keyspace)
        return
    from localdev.stargate import start_in_thread

    server = start_in_thread(
        host="127.0.0.1",
        port=0,
        data_dir=Path(tmp_path_factory.mktemp("astrapy-suite")),
        **EMBEDDED_VARIANTS[name],  # type: ignore[arg-type]
    )
    backend = AstraBackend(
        name,
        server.url,
        "/api/json",
        "hcd",
        UsernamePasswordTokenProvider("cassandra", "cassandra"),
        EMBEDDED_KEYSPACE,
        recorder=CommandRecorder(),
    )
    backend.database().get_database_admin().create_keyspace(EMBEDDED_KEYSPACE)
    yield backend
    server.stop()


@pytest.fixture
def database(astra_backend: AstraBackend) -> Database:
    return astra_backend.database()


@pytest.fixture
def collection(database: Database) -> Iterator[Collection]:
    """A fresh collection per test, dropped afterwards: real Data APIs allow only a few per database
    (5 in the Data API image, which the Data API contract suite shares)."""
    created = database.create_collection(f"astrapy_{uuid.uuid4().hex[:12]}")
    yield created
    created.drop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Against the embedded server, what astrapy sent during the test must match the coverage table."""
    backend = getattr(item, "funcargs", {}).get("astra_backend")
    recorder = backend.recorder if isinstance(backend, AstraBackend) else None
    if recorder is None:
        return (yield)
    recorder.start()
    try:
        result = yield
    finally:
        exchanges = recorder.stop()
    problems = coverage_problems(exchanges)
    assert not problems, "astrapy sent what the coverage table does not allow:\n" + "\n".join(problems)
    return result
