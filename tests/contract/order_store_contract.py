"""The ``OrderStore`` contract: what every order store does, written once and run against each store.

A test module subclasses ``OrderStoreContract`` and gives it an ``order_store`` fixture (a fresh, empty
store per test): the Data API store and the Document API store against each of their backends
(``test_data_api_contract.py``, ``test_document_api_contract.py``), and the in-memory fake that the
handler tests use (``tests/unit/test_in_memory_store.py``), so the fake cannot drift from the real ones.
What only one store does (the Data API's compare-and-set, a client's wire details) stays in that store's
own tests.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from orders_api.errors import InvalidCursor, OrderDeleted
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store import OrderStore


def make_order(n: int, status: OrderStatus = OrderStatus.PENDING, owner: str | None = None) -> StoredOrder:
    """Order ``n``; its price near 2**53 checks that large integers come back exactly."""
    now = datetime.now(UTC).replace(microsecond=0)  # stores keep milliseconds
    return StoredOrder(
        orderId=uuid.uuid4(),
        productName=f"item {n}",
        productQuantity=n + 1,
        productPrice=2**53 - 1 - n,
        status=status,
        createdAt=now,
        updatedAt=now,
        requestFingerprint=f"f{n}",
        owner=owner,
    )


def list_all(
    store: OrderStore, limit: int, status: OrderStatus | None = None, owner: str | None = None
) -> list[StoredOrder]:
    """Every page of a listing, following cursors; each page holds at most ``limit`` orders."""
    listed: list[StoredOrder] = []
    cursor = None
    for _ in range(200):
        page = store.list(limit, cursor, status, owner)
        assert len(page.orders) <= limit
        listed.extend(page.orders)
        cursor = page.next_cursor
        if cursor is None:
            return listed
    raise AssertionError("the listing did not end")


class OrderStoreContract:
    """The behaviour common to every ``OrderStore``; subclasses provide the ``order_store`` fixture."""

    def test_reads_of_an_empty_store_find_nothing(self, order_store: OrderStore) -> None:
        assert order_store.get(uuid.uuid4()) is None
        assert order_store.list(20, None, None).orders == []
        order_store.delete(uuid.uuid4())

    def test_the_first_create_is_new_and_a_second_create_never_overwrites(
        self, order_store: OrderStore
    ) -> None:
        order = make_order(1)

        assert order_store.create(order) == (order, True)
        rival = make_order(2).model_copy(update={"orderId": order.orderId})
        assert order_store.create(rival) == (order, False)
        assert order_store.get(order.orderId) == order  # large integers come back exactly

    def test_pages_visit_every_order_exactly_once(self, order_store: OrderStore) -> None:
        orders = [make_order(n, OrderStatus.PAID if n % 4 == 0 else OrderStatus.PENDING) for n in range(57)]
        for order in orders:
            assert order_store.create(order) == (order, True)

        for limit in (20, 7, 1):
            for status, expected in ((None, orders), (OrderStatus.PAID, orders[::4])):
                listed = sorted(o.orderId for o in list_all(order_store, limit, status))
                assert listed == sorted(o.orderId for o in expected), (limit, status)

    def test_a_cursor_is_bound_to_its_status_filter(self, order_store: OrderStore) -> None:
        for n in range(3):
            order_store.create(make_order(n, OrderStatus.PAID))
        cursor = order_store.list(1, None, OrderStatus.PAID).next_cursor
        assert cursor is not None

        for other in (OrderStatus.SHIPPED, None):
            with pytest.raises(InvalidCursor, match="different status"):
                order_store.list(1, cursor, other)
        assert len(order_store.list(1, cursor, OrderStatus.PAID).orders) == 1

    def test_a_cursor_it_did_not_issue_is_refused(self, order_store: OrderStore) -> None:
        with pytest.raises(InvalidCursor):
            order_store.list(7, "bm90IGEgY3Vyc29y", None)

    def test_a_status_change_reads_back(self, order_store: OrderStore) -> None:
        order = make_order(1)
        order_store.create(order)
        paid = order.model_copy(update={"status": OrderStatus.PAID})

        assert order_store.replace_status(order, paid) == paid
        assert order_store.get(order.orderId) == paid

    def test_delete_then_get_finds_nothing(self, order_store: OrderStore) -> None:
        order = make_order(1)
        order_store.create(order)

        order_store.delete(order.orderId)
        order_store.delete(order.orderId)

        assert order_store.get(order.orderId) is None

    def test_a_deleted_order_stays_deleted_and_its_id_is_never_created_again(
        self, order_store: OrderStore
    ) -> None:
        order, other = make_order(1), make_order(2)
        order_store.create(order)
        order_store.create(other)

        order_store.delete(order.orderId)

        with pytest.raises(OrderDeleted):
            order_store.create(order)  # a replayed Idempotency-Key: 409, not a new order
        assert order_store.get(order.orderId) is None
        assert [o.orderId for o in list_all(order_store, 20)] == [other.orderId]
        assert list_all(order_store, 20, OrderStatus.PENDING) == [other]

    def test_owners_are_part_of_the_query_so_pages_stay_full_and_others_orders_are_unreachable(
        self, order_store: OrderStore
    ) -> None:
        # Given orders of two owners, interleaved
        mine, theirs = [], []
        for n in range(12):
            order = make_order(n, owner="iam:alice" if n % 2 else "iam:bob")
            order_store.create(order)
            (mine if n % 2 else theirs).append(order)

        # When Alice lists in pages of 4
        first = order_store.list(4, None, None, "iam:alice")
        listed = list_all(order_store, 4, None, "iam:alice")

        # Then every page is full of her orders only, and Bob's cannot be read or deleted as hers
        assert len(first.orders) == 4
        assert sorted(str(o.orderId) for o in listed) == sorted(str(o.orderId) for o in mine)
        assert order_store.get(theirs[0].orderId, "iam:alice") is None
        order_store.delete(theirs[0].orderId, "iam:alice")
        assert order_store.get(theirs[0].orderId) is not None
        assert order_store.get(mine[0].orderId, "iam:alice") == mine[0]
