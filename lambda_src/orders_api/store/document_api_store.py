"""Orders kept as JSON documents through the Stargate Document API (self-hosted Stargate).

The Document API has no conditional write: whatever reaches the store is applied, in the order it
arrives, including a write whose caller gave up on it long ago (a slow network, a retried request).
So no write here replaces what another wrote. Every write is a PATCH that adds fields of its own:

- a create merges the order's fields and ``statusAt_PENDING`` (its time; an order created in another
  status, as tests and migrations may, gets that status's stamp);
- a status change merges ``statusAt_<NEW>`` with its ``updatedAt``;
- a delete merges ``statusAt_DELETED``, and erases the product fields.

The order's status is read from those stamps: the one with the latest time, unless ``statusAt_DELETED``
is there, which no later write can undo. A write that lands late carries its own, older time, and so
changes nothing that a later answered change decided: a slow create cannot make a paid order PENDING
again, nor a delayed change bring a deleted order back or undo a later change. A PATCH may therefore
be sent again after any lost answer (it writes the same fields again). A deleted order's document
stays as a tombstone (id, owner, key fingerprint): its Idempotency-Key is answered 409, never reused.

What this cannot give without conditional writes: two changes *at the same time* in two execution
environments both see the old status and can both succeed (PAID and CANCELLED both answered 200), and
two creates with one key can both answer 201. The stack therefore runs this store with one execution
environment (reserved concurrency 1); docs/stores/document-api.md lists what a higher setting allows.

Documents written before these stamps (``status`` and ``updatedAt`` only) are read as a stamp of that
status at that time, so they keep working and take stamps from their next change on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from orders_api.errors import InvalidCursor, OrderDeleted
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store import StoredPage
from orders_api.store.cursor import decode_cursor, encode_cursor
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.stored_documents import DELETED, PRODUCT_FIELDS, order_from, parse_order

# Enough round trips to fill a page even when Stargate hands back short pages, but bounded.
MAX_SEARCH_CALLS = 5
STAMP = "statusAt_"
# Ties between stamps of one millisecond go to the status further along the lifecycle.
_RANK = {status: rank for rank, status in enumerate(OrderStatus)}

Document = dict[str, Any]


class DocumentOrderStore:
    """An ``OrderStore`` over one Document API collection; the document id is the order id."""

    def __init__(self, documents: StargateDocuments) -> None:
        self._documents = documents

    def create(self, order: StoredOrder) -> tuple[StoredOrder, bool]:
        document = self._documents.get(str(order.orderId))
        if document is not None:
            if _deleted(document):
                raise OrderDeleted()
            return order_from(_current(document), order.orderId), False
        fields = order.to_document()
        status, at = fields.pop("status"), fields.pop("updatedAt")
        fields[f"{STAMP}{status}"] = at
        self._documents.patch(str(order.orderId), fields)
        return order, True

    def get(self, order_id: UUID, owner: str | None = None) -> StoredOrder | None:
        # One document by id: the Document API has no filtered read of a single document, so its
        # owner is compared here (another owner's order is as absent as a missing one).
        document = self._documents.get(str(order_id))
        if document is None or _deleted(document) or (owner is not None and document.get("owner") != owner):
            return None
        return order_from(_current(document), order_id)

    def replace_status(self, current: StoredOrder, updated: StoredOrder) -> StoredOrder:
        stamp = updated.to_document()["updatedAt"]
        self._documents.patch(str(current.orderId), {STAMP + updated.status.value: stamp})
        return updated

    def delete(self, order_id: UUID, owner: str | None = None) -> None:
        order = self.get(order_id, owner)
        if order is None:
            return  # missing, deleted, or not this owner's: as good as gone for them
        # No time can make a later stamp win over this one: a deleted order stays deleted.
        self._documents.patch(str(order_id), {STAMP + DELETED: _now_stamp(), **dict.fromkeys(PRODUCT_FIELDS)})

    def list(
        self, limit: int, cursor: str | None, status: OrderStatus | None, owner: str | None = None
    ) -> StoredPage:
        page_state = self._page_state(cursor, status)
        conditions: list[Document] = []
        if status is not None:
            # Every order that has ever been in ``status`` (stamped, or written before stamps); those
            # that moved on are left out below, after reading.
            conditions.append(
                {"$or": [{STAMP + status.value: {"$exists": True}}, {"status": {"$eq": status.value}}]}
            )
        if owner is not None:
            conditions.append({"owner": {"$eq": owner}})
        where = None if not conditions else conditions[0] if len(conditions) == 1 else {"$and": conditions}
        orders: list[StoredOrder] = []
        for _ in range(MAX_SEARCH_CALLS):
            # Ask only for what the page still lacks, so the page state never skips a document.
            page = self._documents.search(where, page_size=limit - len(orders), page_state=page_state)
            for document in page.documents.values():
                if _deleted(document):
                    continue
                order = parse_order(_current(document))
                if order is not None and (status is None or order.status is status):
                    orders.append(order)
            page_state = page.page_state
            if page_state is None or len(orders) >= limit:
                break
        next_cursor = encode_cursor(status, {"pageState": page_state}) if page_state else None
        return StoredPage(orders, next_cursor)

    @staticmethod
    def _page_state(cursor: str | None, status: OrderStatus | None) -> str | None:
        if cursor is None:
            return None
        page_state = decode_cursor(cursor, status).get("pageState")
        if not isinstance(page_state, str) or not page_state:
            raise InvalidCursor()
        return page_state


def _stamps(document: Document) -> dict[str, str]:
    """Each status the document was stamped with, and when (ISO 8601 UTC, so they sort as text)."""
    stamps = {
        name.removeprefix(STAMP): value
        for name, value in document.items()
        if name.startswith(STAMP) and isinstance(value, str)
    }
    legacy, at = document.get("status"), document.get("updatedAt")
    if isinstance(legacy, str) and isinstance(at, str):
        stamps.setdefault(legacy, at)
    return stamps


def _deleted(document: Document) -> bool:
    return DELETED in _stamps(document)


def _current(document: Document) -> Document:
    """The document as an order: its status and ``updatedAt`` from its latest stamp."""
    stamps = {name: at for name, at in _stamps(document).items() if name in OrderStatus.__members__}
    if not stamps:
        return document  # not an order: the caller reports it
    status = max(stamps, key=lambda name: (stamps[name], _RANK[OrderStatus(name)]))
    fields = {name: value for name, value in document.items() if not name.startswith(STAMP)}
    return {**fields, "status": status, "updatedAt": stamps[status]}


def _now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
