"""Order logic: creation with idempotency keys, the status lifecycle, and reads. No HTTP in here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from orders_api.errors import IdempotencyKeyReused, OrderNotFound, TransitionNotAllowed
from orders_api.models import NewOrder, OrderStatus, StoredOrder
from orders_api.store import OrderStore, StoredPage

# Fixed namespace for deriving order ids from idempotency keys: the same key always names the same order.
IDEMPOTENCY_NAMESPACE = UUID("6f1c1f0e-8a7b-4f43-9d0e-3c5b2a4e7d11")

ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def order_id_for_key(idempotency_key: str) -> UUID:
    """The order id an Idempotency-Key stands for."""
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, idempotency_key)


def create_order(store: OrderStore, new: NewOrder, idempotency_key: str | None) -> tuple[StoredOrder, bool]:
    """Store a new PENDING order; return it and whether it is new (False for a replayed key)."""
    fingerprint = new.fingerprint()
    order_id = order_id_for_key(idempotency_key) if idempotency_key is not None else uuid.uuid4()
    now = _now()
    order = StoredOrder(
        orderId=order_id,
        **new.model_dump(),
        status=OrderStatus.PENDING,
        createdAt=now,
        updatedAt=now,
        requestFingerprint=fingerprint,
    )
    stored, created = store.create(order)
    if stored.requestFingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return stored, created


def get_order(store: OrderStore, order_id: UUID) -> StoredOrder:
    """The order, or OrderNotFound."""
    order = store.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def change_status(store: OrderStore, order_id: UUID, status: OrderStatus) -> StoredOrder:
    """Move the order to ``status`` if the lifecycle allows it; ``updatedAt`` always advances."""
    current = get_order(store, order_id)
    if status not in ALLOWED_TRANSITIONS[current.status]:
        raise TransitionNotAllowed(current.status.value, status.value)
    # Clocks of two Lambda instances may disagree: never let updatedAt go backwards or stand still.
    updated_at = max(_now(), current.updatedAt + timedelta(milliseconds=1))
    updated = current.model_copy(update={"status": status, "updatedAt": updated_at})
    return store.replace_status(current, updated)


def list_orders(store: OrderStore, limit: int, cursor: str | None, status: OrderStatus | None) -> StoredPage:
    """A page of orders, optionally of one status."""
    return store.list(limit, cursor, status)


def delete_order(store: OrderStore, order_id: UUID) -> None:
    """Delete the order; deleting one that is already gone succeeds."""
    store.delete(order_id)


def _now() -> datetime:
    # Millisecond precision: what ISO 8601 readers everywhere (JavaScript, Java) keep.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
