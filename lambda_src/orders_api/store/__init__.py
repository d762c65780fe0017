"""Order stores: where orders live. Routes and logic see only the ``OrderStore`` interface.

Ownership is enforced by the store's own queries (the owner is part of the filter), never by dropping
orders from a page after reading it: pages stay full, and nothing leaks through counts or cursors.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol
from uuid import UUID

from orders_api.models import OrderStatus, StoredOrder


class StoredPage(NamedTuple):
    """One page of orders and where the next page starts (None on the last).

    A store hands out and takes back its own position strings; the API seals them into the cursors
    callers see (``orders_api.cursors``), so a store only ever gets back positions it issued.
    """

    orders: list[StoredOrder]
    next_cursor: str | None


class OrderStore(Protocol):
    """What the order logic needs from a database. One implementation per store API."""

    def create(self, order: StoredOrder) -> tuple[StoredOrder, bool]:
        """Store ``order`` unless its id exists; return what is stored under the id and if it is new."""
        ...

    def get(self, order_id: UUID, owner: str | None = None) -> StoredOrder | None:
        """The order with this id (and, unless ``owner`` is None, this owner), or None."""
        ...

    def replace_status(self, current: StoredOrder, updated: StoredOrder) -> StoredOrder:
        """Write ``updated`` if the stored order still has ``current.status``; return what was written.

        Raises OrderNotFound when the order vanished and ConcurrentUpdate when it changed meanwhile,
        as far as the store can tell.
        """
        ...

    def delete(self, order_id: UUID, owner: str | None = None) -> None:
        """Delete the order (only if it has ``owner``, unless None); a missing order is not an error."""
        ...

    def list(
        self, limit: int, cursor: str | None, status: OrderStatus | None, owner: str | None = None
    ) -> StoredPage:
        """Up to ``limit`` orders after position ``cursor``, only those with ``status`` and ``owner``
        when given. The filters are part of the store's query, so pages stay full."""
        ...
