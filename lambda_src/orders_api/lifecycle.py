"""Order logic: creation with idempotency keys, the status lifecycle, and reads. No HTTP in here."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from orders_api.cursors import CursorSeal
from orders_api.errors import IdempotencyKeyReused, NotAllowed, OrderNotFound, TransitionNotAllowed
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
    if stored.requestFingerprint != fingerprint or stored.owner != caller.id:
        raise IdempotencyKeyReused()
    return stored, created


def get_order(store: OrderStore, caller: Caller, order_id: UUID) -> StoredOrder:
    """The order, if ``caller`` may see it; OrderNotFound otherwise (another's order is not revealed)."""
    order = store.get(order_id, caller.owner_filter)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def change_status(store: OrderStore, caller: Caller, order_id: UUID, status: OrderStatus) -> StoredOrder:
    """Move the order to ``status`` if the lifecycle allows it; ``updatedAt`` always advances."""
    current = get_order(store, caller, order_id)
    allowed = ALLOWED_TRANSITIONS[current.status]
    if status not in allowed:
        next_statuses = tuple(s.value for s in OrderStatus if s in allowed)  # in the lifecycle's order
        raise TransitionNotAllowed(current.status.value, status.value, next_statuses)
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
    owner: str | None = None,
) -> StoredPage:
    """A page of the caller's orders (an admin's: every order, or ``owner``'s), optionally of one status.

    Cursors are sealed for the caller and the owner filter, and opened so.
    """
    if owner is not None and not caller.admin:
        raise NotAllowed("Only admins may list another caller's orders; leave out owner.")
    owner_filter = owner if caller.admin else caller.id
    # The filter actually applied: an admin's listing of everyone ("*") or of one owner, or the
    # caller's own orders (""), so a cursor never moves between them.
    scope = ("*" if owner is None else f"owner:{owner}") if caller.admin else ""
    position = seal.open(caller, cursor, scope) if cursor is not None else None
    page = store.list(limit, position, status, owner_filter)
    next_cursor = seal.seal(caller, page.next_cursor, scope) if page.next_cursor is not None else None
    return StoredPage(page.orders, next_cursor)


def delete_order(store: OrderStore, caller: Caller, order_id: UUID) -> None:
    """Delete the order if ``caller`` may; deleting one that is gone (or not theirs) succeeds."""
    store.delete(order_id, caller.owner_filter)


def _now() -> datetime:
    # Millisecond precision: what ISO 8601 readers everywhere (JavaScript, Java) keep.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
