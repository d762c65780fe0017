"""The Document API client and the order store against a real Document API server over HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from orders_api.errors import InvalidCursor, StoreError
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.document_api_store import DocumentOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken, PasswordLogin

from .conftest import TIMEOUT, Backend

pytestmark = pytest.mark.contract


def test_creating_an_existing_namespace_is_fine(backend: Backend) -> None:
    backend.create_namespace()
    backend.create_namespace()


def test_a_put_document_reads_back_with_whole_numbers_as_integers(documents: StargateDocuments) -> None:
    document = {
        "name": "café ☕",
        "count": 3,
        "price": 2.0,
        "nested": {"ok": True, "none": None},
        "tags": ["a"],
    }

    documents.put("doc-1", document)

    assert documents.get("doc-1") == {**document, "price": 2}


def test_put_replaces_the_whole_document(documents: StargateDocuments) -> None:
    documents.put("doc-1", {"a": 1, "b": 2})

    documents.put("doc-1", {"a": 3})

    assert documents.get("doc-1") == {"a": 3}


def test_a_missing_document_or_collection_reads_as_none(documents: StargateDocuments) -> None:
    assert documents.get("never-written") is None
    documents.put("doc-1", {"a": 1})
    assert documents.get("never-written") is None


def test_delete_is_idempotent_even_without_a_collection(documents: StargateDocuments) -> None:
    documents.delete("never-written")
    documents.put("doc-1", {"a": 1})

    documents.delete("doc-1")
    documents.delete("doc-1")

    assert documents.get("doc-1") is None


def test_a_missing_collection_searches_as_empty(documents: StargateDocuments) -> None:
    page = documents.search()

    assert page.documents == {}
    assert page.page_state is None


def _search_all(
    documents: StargateDocuments, where: dict[str, Any] | None = None, page_size: int = 20
) -> list[str]:
    """The ids of every page of a search, in the order served. Stargate promises no order, and its
    pages may come back short or end with an empty page, so only the union of all pages is compared."""
    seen: list[str] = []
    page_state = None
    for _ in range(50):
        page = documents.search(where, page_size=page_size, page_state=page_state)
        assert len(page.documents) <= page_size
        seen.extend(page.documents)
        page_state = page.page_state
        if page_state is None:
            return seen
    raise AssertionError(f"the search did not end after 50 pages; {len(seen)} ids so far")


def test_search_pages_visit_every_document_exactly_once(documents: StargateDocuments) -> None:
    for n in range(45):
        documents.put(f"doc-{n:02}", {"n": n, "even": n % 2 == 0})

    seen = _search_all(documents, page_size=20)

    assert sorted(seen) == [f"doc-{n:02}" for n in range(45)]


def test_search_filters_with_where(documents: StargateDocuments) -> None:
    for n in range(10):
        documents.put(f"doc-{n}", {"n": n, "status": "PAID" if n < 3 else "PENDING"})

    seen = _search_all(documents, {"status": {"$eq": "PAID"}}, page_size=20)

    assert sorted(seen) == ["doc-0", "doc-1", "doc-2"]


def test_a_rejected_fixed_token_is_a_store_error(backend: Backend, collection: str) -> None:
    session = new_session()
    bad = StargateDocuments(
        backend.base_url, backend.namespace, collection, FixedToken(str(uuid.uuid4())), session, TIMEOUT
    )

    with pytest.raises(StoreError) as raised:
        bad.get("doc-1")

    assert "rejected" in str(raised.value)


def test_an_expired_login_token_is_renewed_once(backend: Backend, collection: str) -> None:
    if backend.login is None:
        pytest.skip("this backend is configured with a fixed token, not a login")
    session = new_session()
    tokens = PasswordLogin(backend.auth_url, backend.login, session, TIMEOUT)
    tokens._token = str(uuid.uuid4())  # a token the server never issued, as if it had expired
    documents = StargateDocuments(backend.base_url, backend.namespace, collection, tokens, session, TIMEOUT)

    documents.put("doc-1", {"a": 1})

    assert documents.get("doc-1") == {"a": 1}


def test_a_missing_namespace_is_a_store_error_not_a_missing_document(
    backend: Backend, collection: str
) -> None:
    session = new_session()
    documents = StargateDocuments(
        backend.base_url, "no_such_namespace_x", collection, backend.tokens(session), session, TIMEOUT
    )

    with pytest.raises(StoreError, match="namespace"):
        documents.get("doc-1")
    with pytest.raises(StoreError, match="namespace"):
        documents.put("doc-1", {"a": 1})


def _order(n: int, status: OrderStatus = OrderStatus.PENDING) -> StoredOrder:
    now = datetime.now(UTC).replace(microsecond=0)  # the store keeps milliseconds
    return StoredOrder(
        orderId=uuid.uuid4(),
        productName=f"item {n}",
        productQuantity=n + 1,
        productPrice=100 * n,
        status=status,
        createdAt=now,
        updatedAt=now,
        requestFingerprint=f"f{n}",
    )


def test_the_order_store_round_trips_and_paginates(documents: StargateDocuments) -> None:
    store = DocumentOrderStore(documents)
    orders = [_order(n, OrderStatus.PAID if n % 3 == 0 else OrderStatus.PENDING) for n in range(25)]
    for order in orders:
        assert store.create(order) == (order, True)

    again = store.create(_order(99).model_copy(update={"orderId": orders[0].orderId}))
    assert again == (orders[0], False)
    assert store.get(orders[1].orderId) == orders[1]

    for status, expected in ((None, orders), (OrderStatus.PAID, orders[::3])):
        seen: list[StoredOrder] = []
        cursor = None
        for _ in range(20):
            page = store.list(7, cursor, status)
            assert len(page.orders) <= 7
            seen.extend(page.orders)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(o.orderId for o in seen) == sorted(o.orderId for o in expected)

    with pytest.raises(InvalidCursor):
        store.list(7, "bm90IGEgY3Vyc29y", None)

    paid = orders[1].model_copy(update={"status": OrderStatus.PAID})
    store.replace_status(orders[1], paid)
    assert store.get(orders[1].orderId) == paid

    store.delete(orders[1].orderId)
    assert store.get(orders[1].orderId) is None


def test_owners_are_part_of_the_search_so_pages_stay_full_and_others_orders_are_unreachable(
    documents: StargateDocuments,
) -> None:
    store = DocumentOrderStore(documents)
    mine, theirs = [], []
    for n in range(12):
        order = _order(n).model_copy(update={"owner": "iam:alice" if n % 2 else "iam:bob"})
        store.create(order)
        (mine if n % 2 else theirs).append(order)

    first = store.list(4, None, None, "iam:alice")
    listed = list(first.orders)
    cursor = first.next_cursor
    while cursor is not None:
        page = store.list(4, cursor, None, "iam:alice")
        listed += page.orders
        cursor = page.next_cursor

    assert len(first.orders) == 4
    assert sorted(str(o.orderId) for o in listed) == sorted(str(o.orderId) for o in mine)
    assert store.get(theirs[0].orderId, "iam:alice") is None
    store.delete(theirs[0].orderId, "iam:alice")
    assert store.get(theirs[0].orderId) is not None
    assert store.get(mine[0].orderId, "iam:alice") == mine[0]
