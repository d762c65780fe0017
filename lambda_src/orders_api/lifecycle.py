"""Order logic: creation with idempotency keys, the status lifecycle, and reads. No HTTP in here."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from orders_api.cursors import CursorSeal
from orders_api.errors import IdempotencyKeyReused, OrderNotFound, TransitionNotAllowed
from orders_api.identity import Caller
from orders_api.models import NewOrder, OrderStatus, StoredOrder
from orders_api.store import OrderStore, StoredPage

# Fixed namespace for deriving order ids from (caller, idempotency key): the same caller's same key
# always names the same order, and no other caller's key can name it. Until caller scoping, ids came
# from the key alone (namespace 6f1c1f0e-...): a key first sent before the change and repeated after
# it names a new order, so such a repeat is stored again (201) instead of replayed; nothing is lost.
IDEMPOTENCY_NAMESPACE = UUID("0d6b3f2e-5c1a-4e8f-b7a9-2f4c6e8a1b3d")

ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def order_id_for_key(caller: Caller, idempotency_key: str) -> UUID:
    """The order id a caller's Idempotency-Key stands for (unambiguous: a JSON pair is hashed)."""
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, json.dumps([caller.id, idempotency_key]))


def create_order(
    store: OrderStore, caller: Caller, new: NewOrder, idempotency_key: str | None
) -> tuple[StoredOrder, bool]:
    """Store a new PENDING order of ``caller``; return it and whether it is new (False for a replay)."""
    fingerprint = new.fingerprint()
    order_id = order_id_for_key(caller, idempotency_key) if idempotency_key is not None else uuid.uuid4()
    now = _now()
    order = StoredOrder(
        orderId=order_id,
        **new.model_dump(),
        status=OrderStatus.PENDING,
        createdAt=now,
        updatedAt=now,
        requestFingerprint=fingerprint,
        owner=caller.id,
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


def list_orders(
    store: OrderStore,
    seal: CursorSeal,
    caller: Caller,
    limit: int,
    cursor: str | None,
    status: OrderStatus | None,
) -> StoredPage:
    """A page of orders, optionally of one status; cursors are sealed for ``caller`` and opened so."""
    position = seal.open(caller, cursor) if cursor is not None else None
    page = store.list(limit, position, status)
    next_cursor = seal.seal(caller, page.next_cursor) if page.next_cursor is not None else None
    return StoredPage(page.orders, next_cursor)


def delete_order(store: OrderStore, order_id: UUID) -> None:
    """Delete the order; deleting one that is already gone succeeds."""
    store.delete(order_id)


def _now() -> datetime:
    # Millisecond precision: what ISO 8601 readers everywhere (JavaScript, Java) keep.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
