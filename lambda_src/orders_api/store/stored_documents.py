"""What both order stores do alike with a stored document: read it back as an order.

A document that is not an order is skipped (and logged) where a page of them is listed, and is a store
failure where one order was asked for by id: a page stays useful, a single answer must not lie.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import ValidationError

from orders_api.errors import StoreError
from orders_api.models import StoredOrder
from orders_api.observability import logger

Document = dict[str, Any]
# The field that records which request last wrote the order (its create, then each status change).
WRITE_ID = "lastWriteId"
# A deleted order stays as a tombstone in both stores (a write landing late cannot revive it, a replayed
# Idempotency-Key finds it): this marks it, and these fields are erased; id, owner and fingerprint stay.
DELETED = "DELETED"
PRODUCT_FIELDS = ("productName", "productQuantity", "productPrice")


def parse_order(document: Document, id_field: str = "orderId") -> StoredOrder | None:
    """The order ``document`` holds (its id under ``id_field``), or None when it is not an order."""
    fields = document if id_field == "orderId" else {**document, "orderId": document.get(id_field)}
    try:
        return StoredOrder.model_validate(fields)
    except ValidationError:
        logger.warning("Skipping a stored document that is not an order", extra={"keys": sorted(document)})
        return None


def order_from(document: Document, order_id: UUID, id_field: str = "orderId") -> StoredOrder:
    """The order read by its id ``order_id``; StoreError when the stored document is malformed."""
    order = parse_order(document, id_field)
    if order is None:
        raise StoreError(f"The stored order {order_id} is malformed.")
    return order
