"""Orders as the store tests build them: fixed timestamps (with milliseconds), a fresh id unless given."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from orders_api.models import OrderStatus, StoredOrder

CREATED = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)


def order(
    status: OrderStatus = OrderStatus.PENDING, name: str = "Tea", order_id: UUID | None = None
) -> StoredOrder:
    return StoredOrder(
        orderId=order_id or uuid4(),
        productName=name,
        productQuantity=2,
        productPrice=350,
        status=status,
        createdAt=CREATED,
        updatedAt=CREATED,
        requestFingerprint="f" * 64,
    )
