"""What both order stores do alike, against recorded answers: each test runs on the Data API store and on
the Document API store, each played by ``responses`` in its own wire format (a ``Wire`` below).

What only one store does, and how each one's requests look, stays in ``test_data_api_store.py`` and
``test_document_api_store.py``; the same behaviour against real servers is ``tests/contract``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol
from uuid import UUID, uuid4

import pytest
import responses
from responses.registries import OrderedRegistry

from orders_api.errors import InvalidCursor, StoreError
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store import OrderStore
from orders_api.store.data_api_client import DataApiCollection
from orders_api.store.data_api_store import DataApiOrderStore
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.document_api_store import DocumentOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken
from tests.unit.stored_orders import order

TIMEOUT = (1.0, 2.0)
Document = dict[str, Any]


class Wire(Protocol):
    """One store and how its server answers, in that server's own format."""

    id_field: str

    def store(self) -> OrderStore: ...

    def stored(self, order: StoredOrder) -> dict[str, Any]:
        """The document the server keeps for ``order``."""
        ...

    def answer_read(
        self, mock: responses.RequestsMock, order_id: UUID, document: dict[str, Any] | None
    ) -> None:
        """The server answers a read of ``order_id`` with ``document`` (None: there is none)."""
        ...

    def answer_page(self, mock: responses.RequestsMock, orders: list[StoredOrder], page_state: str) -> None:
        """The server answers a list with ``orders`` and a state for the next page."""
        ...


class DataApiWire:
    id_field = "_id"
    url = "http://data-api.test:8181/v1/shop/orders"

    def store(self) -> OrderStore:
        collection = DataApiCollection(
            "http://data-api.test:8181", "shop", "orders", FixedToken("token"), new_session(), TIMEOUT
        )
        return DataApiOrderStore(collection)

    def stored(self, order: StoredOrder) -> dict[str, Any]:
        document = order.to_document()
        return {"_id": str(document.pop("orderId")), **document}

    def answer_read(
        self, mock: responses.RequestsMock, order_id: UUID, document: dict[str, Any] | None
    ) -> None:
        mock.post(self.url, json={"data": {"document": document}})

    def answer_page(self, mock: responses.RequestsMock, orders: list[StoredOrder], page_state: str) -> None:
        documents = [self.stored(o) for o in orders]
        mock.post(self.url, json={"data": {"documents": documents, "nextPageState": page_state}})


class DocumentApiWire:
    id_field = "orderId"
    url = "http://stargate.test:8082/v2/namespaces/shop/collections/orders"

    def store(self) -> OrderStore:
        documents = StargateDocuments(
            "http://stargate.test:8082", "shop", "orders", FixedToken("token"), new_session(), TIMEOUT
        )
        return DocumentOrderStore(documents)

    def stored(self, order: StoredOrder) -> dict[str, Any]:
        return order.to_document()

    def answer_read(
        self, mock: responses.RequestsMock, order_id: UUID, document: dict[str, Any] | None
    ) -> None:
        if document is None:
            missing = {"description": f"A document with the id {order_id} does not exist.", "code": 404}
            mock.get(f"{self.url}/{order_id}", json=missing, status=404)
        else:
            mock.get(f"{self.url}/{order_id}", json=document)

    def answer_page(self, mock: responses.RequestsMock, orders: list[StoredOrder], page_state: str) -> None:
        mock.get(
            self.url, json={"pageState": page_state, "data": {str(o.orderId): self.stored(o) for o in orders}}
        )


@pytest.fixture(params=[DataApiWire(), DocumentApiWire()], ids=["data-api", "document-api"])
def wire(request: pytest.FixtureRequest) -> Wire:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server() -> Iterator[responses.RequestsMock]:
    """A server whose answers must be asked for exactly in the order they were registered."""
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        yield mock


def test_get_of_a_missing_order_is_none(wire: Wire, server: responses.RequestsMock) -> None:
    # Given no order has the id
    missing = uuid4()
    wire.answer_read(server, missing, None)

    # When it is read
    # Then there is none
    assert wire.store().get(missing) is None


@pytest.mark.parametrize(
    "malformed",
    [
        pytest.param({"hello": "world"}, id="not-an-order"),
        pytest.param({"status": "LOST"}, id="unknown-status"),
        pytest.param({"createdAt": "yesterday"}, id="bad-timestamp"),
        pytest.param({"id": "not-a-uuid"}, id="id-not-a-uuid"),
    ],
)
def test_get_of_a_malformed_stored_document_is_a_store_error(
    wire: Wire, server: responses.RequestsMock, malformed: dict[str, Any]
) -> None:
    # Given the document under the id is not a valid order
    broken = order()
    if "id" in malformed:
        malformed = {wire.id_field: malformed["id"]}
    document = malformed if "hello" in malformed else wire.stored(broken) | malformed
    wire.answer_read(server, broken.orderId, document)

    # When it is read
    with pytest.raises(StoreError) as raised:
        wire.store().get(broken.orderId)

    # Then the caller gets a 502 naming the order
    assert raised.value.status_code == 502
    assert str(broken.orderId) in str(raised.value)


def test_list_cursor_is_bound_to_the_status_filter(wire: Wire, server: responses.RequestsMock) -> None:
    # Given a cursor from a list of paid orders
    wire.answer_page(server, [order(OrderStatus.PAID)], page_state="state-paid")
    orders = wire.store()
    cursor = orders.list(1, None, OrderStatus.PAID).next_cursor
    assert cursor is not None

    # When it is used with another filter, or none
    # Then it is refused before the server is asked anything
    for other in (OrderStatus.SHIPPED, None):
        with pytest.raises(InvalidCursor, match="different status"):
            orders.list(1, cursor, other)
    assert len(server.calls) == 1
