"""An in-memory OrderStore for tests of the routes and the order logic."""

from __future__ import annotations

from uuid import UUID

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from orders_api.errors import OrderDeleted, OrderNotFound
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store import StoredPage
from orders_api.store.cursor import decode_cursor, encode_cursor


class InMemoryOrderStore:
    """Keeps orders in a dict, in insertion order; cursors are offsets."""

    def __init__(self) -> None:
        self.orders: dict[UUID, StoredOrder] = {}
        self.deleted: set[UUID] = set()  # the ids of deleted orders: both real stores keep tombstones

    def create(self, order: StoredOrder) -> tuple[StoredOrder, bool]:
        if order.orderId in self.deleted:
            raise OrderDeleted()
        if order.orderId in self.orders:
            return self.orders[order.orderId], False
        self.orders[order.orderId] = order
        return order, True

    def get(self, order_id: UUID, owner: str | None = None) -> StoredOrder | None:
        order = self.orders.get(order_id)
        return order if order is not None and (owner is None or order.owner == owner) else None

    def replace_status(self, current: StoredOrder, updated: StoredOrder) -> StoredOrder:
        if current.orderId not in self.orders:
            raise OrderNotFound(current.orderId)
        self.orders[updated.orderId] = updated
        return updated

    def delete(self, order_id: UUID, owner: str | None = None) -> None:
        if self.get(order_id, owner) is not None:
            self.orders.pop(order_id, None)
            self.deleted.add(order_id)

    def list(
        self, limit: int, cursor: str | None, status: OrderStatus | None, owner: str | None = None
    ) -> StoredPage:
        start = int(decode_cursor(cursor, status)["offset"]) if cursor else 0
        matching = [
            o
            for o in self.orders.values()
            if (status is None or o.status == status) and (owner is None or o.owner == owner)
        ]
        page = matching[start : start + limit]
        more = start + limit < len(matching)
        return StoredPage(page, encode_cursor(status, {"offset": start + limit}) if more else None)


def refused_connection(url: str) -> requests.ConnectionError:
    """What requests raises when nothing listens: urllib3's NewConnectionError inside MaxRetryError."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, url, reason))  # type: ignore[arg-type]
