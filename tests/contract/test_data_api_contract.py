"""The Data API client and order store against a real Data API server over HTTP.

Backends: ``embedded`` (the embedded server's Data API, always; run with both page sizes the real
server has had, 20 and 50, and both generations of error names) and ``external`` (a Data API given by
``CONTRACT_DATA_API_URL`` — e.g. ``https://<db>-<region>.apps.astra.datastax.com/api/json`` or
``http://localhost:8181`` — with ``CONTRACT_DATA_API_TOKEN`` and ``CONTRACT_DATA_API_KEYSPACE``,
default ``default_keyspace``; skipped, with that reason, when the URL is unset), and ``compose`` (a
self-hosted Data API beside DSE 6.9, started with Testcontainers' Docker Compose support where Docker
can pull images; skipped with the reason elsewhere).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orders_api.errors import ConcurrentUpdate, StoreError
from orders_api.models import OrderStatus
from orders_api.store.data_api_client import DataApiCollection
from orders_api.store.data_api_store import DataApiOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken, Login, cassandra_token

from .conftest import backends_skipped_by_choice
from .order_store_contract import OrderStoreContract, make_order

pytestmark = pytest.mark.contract

TIMEOUT = (3.05, 15.0)


@dataclass(frozen=True)
class DataBackend:
    """Where a Data API is and the token it takes."""

    name: str
    base_url: str
    keyspace: str
    token: str

    def collection(self, name: str) -> DataApiCollection:
        session = new_session()
        return DataApiCollection(self.base_url, self.keyspace, name, FixedToken(self.token), session, TIMEOUT)

    def drop_collection(self, name: str) -> None:
        """Drop it if it exists (the answer is not checked: a test may never have created it)."""
        with new_session() as session:
            session.post(
                f"{self.base_url}/v1/{self.keyspace}",
                json={"deleteCollection": {"name": name}},
                headers={"Token": self.token},
                timeout=TIMEOUT,
            )


EMBEDDED_VARIANTS = {
    "embedded-page20-current": {"data_api_page_size": 20, "data_api_error_names": "current"},
    "embedded-page50-legacy": {"data_api_page_size": 50, "data_api_error_names": "legacy"},
}


@pytest.fixture(scope="session", params=[*EMBEDDED_VARIANTS, "compose", "external"])
def data_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DataBackend]:
    if request.param in backends_skipped_by_choice():
        pytest.skip(f"{request.param} backend: listed in CONTRACT_SKIP_BACKENDS")
    if request.param == "compose":
        from tests.contract_support.data_api_stack import KEYSPACE, shared_data_api_stack
        from tests.contract_support.stargate_container import BackendUnavailable

        try:
            stack = shared_data_api_stack(request.config)  # also the astrapy suite's; stopped at the end
        except BackendUnavailable as reason:
            pytest.skip(f"compose Data API backend: {reason}")
        yield DataBackend("compose", stack.base_url, KEYSPACE, stack.token)
        return
    if request.param == "external":
        url = os.environ.get("CONTRACT_DATA_API_URL")
        token = os.environ.get("CONTRACT_DATA_API_TOKEN")
        if not url or not token:
            pytest.skip(
                "external Data API backend: CONTRACT_DATA_API_URL / CONTRACT_DATA_API_TOKEN are not set"
            )
        yield DataBackend(
            "external", url, os.environ.get("CONTRACT_DATA_API_KEYSPACE", "default_keyspace"), token
        )
        return
    from localdev.stargate import start_in_thread

    server = start_in_thread(
        host="127.0.0.1",
        port=0,
        data_dir=Path(tmp_path_factory.mktemp("data-api")),
        **EMBEDDED_VARIANTS[request.param],  # type: ignore[arg-type]
    )
    token = cassandra_token(Login("cassandra", "cassandra")).token()
    backend = DataBackend(request.param, f"{server.url}/api/json", "contract", token)
    session = new_session()
    created = session.post(
        f"{backend.base_url}/v1",
        json={"createKeyspace": {"name": "contract"}},
        headers={"Token": token},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    yield backend
    server.stop()


@pytest.fixture
def collection(data_backend: DataBackend) -> Iterator[DataApiCollection]:
    """A fresh collection per test, dropped afterwards: a real Data API allows only a few per database
    (5 by default in the Data API image, which the astrapy suite shares; Astra has its own limit)."""
    name = f"c{uuid.uuid4().hex[:20]}"
    yield data_backend.collection(name)
    data_backend.drop_collection(name)


def test_creating_the_collection_twice_is_fine(collection: DataApiCollection) -> None:
    collection.create_collection()
    collection.create_collection()


def test_a_status_change_is_compare_and_set(collection: DataApiCollection) -> None:
    store = DataApiOrderStore(collection)
    order = make_order(1)
    store.create(order)
    paid = order.model_copy(update={"status": OrderStatus.PAID})
    cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED})

    assert store.replace_status(order, paid) == paid
    with pytest.raises(ConcurrentUpdate):
        store.replace_status(order, cancelled)  # decided on PENDING, but it is PAID now
    assert store.get(order.orderId) == paid


def test_two_concurrent_transitions_from_the_same_state_exactly_one_wins(
    collection: DataApiCollection,
) -> None:
    store = DataApiOrderStore(collection)
    order = make_order(1)
    store.create(order)
    targets = [OrderStatus.PAID, OrderStatus.CANCELLED] * 4
    barrier = threading.Barrier(len(targets))
    outcomes: list[str] = []
    lock = threading.Lock()

    def transition(target: OrderStatus) -> None:
        barrier.wait()
        try:
            store.replace_status(order, order.model_copy(update={"status": target}))
            result = f"won:{target.value}"
        except ConcurrentUpdate:
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=transition, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1, outcomes
    assert store.get(order.orderId).status.value == winners[0].removeprefix("won:")  # type: ignore[union-attr]


def test_a_rejected_token_is_a_store_error(data_backend: DataBackend) -> None:
    session = new_session()
    bad = DataApiCollection(
        data_backend.base_url,
        data_backend.keyspace,
        "orders",
        FixedToken("AstraCS:not-a-token"),
        session,
        TIMEOUT,
    )

    with pytest.raises(StoreError, match="rejected"):
        bad.find_one({"_id": "x"})


def test_a_missing_keyspace_is_a_store_error_naming_it(data_backend: DataBackend) -> None:
    session = new_session()
    collection = DataApiCollection(
        data_backend.base_url, "no_such_keyspace", "orders", FixedToken(data_backend.token), session, TIMEOUT
    )

    with pytest.raises(StoreError, match="no_such_keyspace"):
        collection.insert_one({"_id": "x"})


class TestDataApiOrderStore(OrderStoreContract):
    """The order store contract on each Data API backend; a fresh collection is a missing one, so the
    first create also creates the collection."""

    @pytest.fixture
    def order_store(self, collection: DataApiCollection) -> DataApiOrderStore:
        return DataApiOrderStore(collection)
