"""Orders kept as documents through the Astra DB Data API (Astra today, or a self-hosted Data API).

A delete leaves a tombstone: the order's status becomes ``DELETED`` and its product fields are erased;
the id, owner and key fingerprint stay. An insert of that id, such as a create whose write lands after
the delete (a slow first attempt, retried meanwhile), is then refused as a duplicate instead of bringing
the order back, and a replayed Idempotency-Key is answered 409 rather than creating its order again.
Reads and listings never see tombstones; status changes cannot match one (they compare the status).
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from orders_api.errors import ConcurrentUpdate, InvalidCursor, OrderDeleted, OrderNotFound
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store import StoredPage
from orders_api.store.cursor import decode_cursor, encode_cursor
from orders_api.store.data_api_client import CollectionMissing, DataApiCollection, Document
from orders_api.store.stored_documents import DELETED, PRODUCT_FIELDS, WRITE_ID, order_from, parse_order

# The field that holds the order id.
ID = "_id"
LIVE = {"status": {"$ne": DELETED}}
# Server pages hold 20 or 50 documents depending on the server version; a few calls always suffice.
MAX_FIND_CALLS = 5
# Ids a cursor carries at most: a page's worth of returned ids plus a margin (a cursor stays < 4 KiB).
MAX_REMEMBERED = 60


class DataApiOrderStore:
    """An ``OrderStore`` over one Data API collection; ``_id`` is the order id.

    The collection is created on first write: a new Astra database then needs no manual step, and
    reads never pay for a check (a missing collection simply holds no orders).
    """

    def __init__(self, collection: DataApiCollection) -> None:
        self._collection = collection

    def create(self, order: StoredOrder) -> tuple[StoredOrder, bool]:
        # The write id tells our own insert, applied by an attempt whose answer was lost and then
        # refused as a duplicate on the next attempt, from an order stored by an earlier request.
        write_id = uuid.uuid4().hex
        document = {**_to_document(order), WRITE_ID: write_id}
        try:
            inserted = self._collection.insert_one(document)
        except CollectionMissing:
            self._collection.create_collection()
            inserted = self._collection.insert_one(document)
        if inserted:
            return order, True
        # The id exists: a replayed Idempotency-Key, or our own insert. Answer with what is stored.
        existing = self._collection.find_one({"_id": str(order.orderId)})
        if existing is None:
            raise ConcurrentUpdate(order.orderId)  # an order stored before tombstones, deleted meanwhile
        if existing.get("status") == DELETED:
            raise OrderDeleted()
        stored = order_from(existing, order.orderId, ID)
        return stored, existing.get(WRITE_ID) == write_id

    def get(self, order_id: UUID, owner: str | None = None) -> StoredOrder | None:
        document = self._collection.find_one(_owned({"_id": str(order_id), **LIVE}, owner))
        return None if document is None else order_from(document, order_id, ID)

    def replace_status(self, current: StoredOrder, updated: StoredOrder) -> StoredOrder:
        # Compare-and-set: the write applies only if the status is still the one the decision was made on.
        # The write id tells our own write (applied by an attempt whose answer was lost) from a rival's.
        changes = updated.to_document()
        write_id = uuid.uuid4().hex
        matched = self._collection.update_one(
            {"_id": str(current.orderId), "status": current.status.value},
            {"$set": {"status": changes["status"], "updatedAt": changes["updatedAt"], WRITE_ID: write_id}},
        )
        if matched:
            return updated
        document = self._collection.find_one({"_id": str(current.orderId)})
        if document is None or document.get("status") == DELETED:
            raise OrderNotFound(current.orderId)
        if document.get(WRITE_ID) == write_id:
            return updated
        raise ConcurrentUpdate(current.orderId)

    def delete(self, order_id: UUID, owner: str | None = None) -> None:
        self._collection.update_one(
            _owned({"_id": str(order_id), **LIVE}, owner),
            {"$set": {"status": DELETED}, "$unset": dict.fromkeys(PRODUCT_FIELDS, "")},
        )

    def list(
        self, limit: int, cursor: str | None, status: OrderStatus | None, owner: str | None = None
    ) -> StoredPage:
        """Pages of ``limit`` carved out of the server's pages (20 or 50), every order exactly once.

        A cursor names the server page being read (its page state) and the ids already returned from
        it. The next call reads that page again and skips those ids, so documents inserted or deleted
        in between shift nothing. Returned ids that vanish from a re-read page (deleted, or pushed on to
        the next page by inserts) are remembered into the next page, so they are not listed twice.
        """
        page_state, seen = self._position(cursor, status)
        filter_: Document = _owned({"status": status.value} if status else LIVE, owner)
        orders: list[StoredOrder] = []
        for _ in range(MAX_FIND_CALLS):
            page = self._collection.find(filter_, page_state)
            fresh = [d for d in page.documents if _id(d) not in seen]
            taken = fresh[: limit - len(orders)]
            parsed = (parse_order(document, ID) for document in taken)
            orders.extend(order for order in parsed if order is not None)
            seen |= {_id(d) for d in taken}
            if len(taken) < len(fresh):  # this server page has more: the next call resumes inside it
                return StoredPage(orders, self._cursor(status, page_state, seen))
            if page.next_page_state is None:
                return StoredPage(orders, None)
            # Done with this page: only ids that left it can show up on the next one.
            seen -= {_id(d) for d in page.documents}
            page_state = page.next_page_state
            if len(orders) >= limit:
                break
        return StoredPage(orders, self._cursor(status, page_state, seen))

    @staticmethod
    def _cursor(status: OrderStatus | None, page_state: str | None, seen: set[str]) -> str:
        # Bounded: ids that vanished long ago (deleted) can be forgotten without harm.
        return encode_cursor(status, {"pageState": page_state, "seen": sorted(seen)[-MAX_REMEMBERED:]})

    @staticmethod
    def _position(cursor: str | None, status: OrderStatus | None) -> tuple[str | None, set[str]]:
        if cursor is None:
            return None, set()
        position = decode_cursor(cursor, status)
        page_state, seen = position.get("pageState"), position.get("seen")
        if not (page_state is None or isinstance(page_state, str)):
            raise InvalidCursor()
        if not isinstance(seen, list) or not all(isinstance(item, str) for item in seen):
            raise InvalidCursor()
        return page_state, set(seen)


def _owned(filter_: Document, owner: str | None) -> Document:
    """``filter_``, narrowed to one owner's orders unless ``owner`` is None."""
    return filter_ if owner is None else {**filter_, "owner": owner}


def _id(document: Document) -> str:
    return str(document.get("_id"))


def _to_document(order: StoredOrder) -> Document:
    document: dict[str, Any] = order.to_document()
    document["_id"] = document.pop("orderId")
    return document
