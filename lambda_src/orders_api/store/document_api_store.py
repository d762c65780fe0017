"""Orders kept as JSON documents through the Stargate Document API (self-hosted Stargate)."""

from __future__ import annotations

import uuid
from uuid import UUID

from orders_api.errors import InvalidCursor, StoreAnswerBroken, StoreError, StoreTimeout, StoreUnavailable
from orders_api.models import OrderStatus, StoredOrder
from orders_api.observability import logger
from orders_api.store import StoredPage
from orders_api.store.cursor import decode_cursor, encode_cursor
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.stored_documents import WRITE_ID, order_from, parse_order

# Enough round trips to fill a page even when Stargate hands back short pages, but bounded.
MAX_SEARCH_CALLS = 5


class DocumentOrderStore:
    """An ``OrderStore`` over one Document API collection; the document id is the order id.

    The Document API has no conditional write, so status changes are last-writer-wins: two concurrent
    changes of one order can both succeed. The Data API store does not have this limit. Every write
    carries a write id, so a write whose answer was lost is recognised by reading it back.
    """

    def __init__(self, documents: StargateDocuments) -> None:
        self._documents = documents

    def create(self, order: StoredOrder) -> tuple[StoredOrder, bool]:
        existing = self.get(order.orderId)
        if existing is not None:
            return existing, False
        self._write(order)
        return order, True

    def get(self, order_id: UUID, owner: str | None = None) -> StoredOrder | None:
        # One document by id: the Document API has no filtered read of a single document, so its
        # owner is compared here (another owner's order is as absent as a missing one).
        document = self._documents.get(str(order_id))
        if document is None or (owner is not None and document.get("owner") != owner):
            return None
        return order_from(document, order_id)

    def replace_status(self, current: StoredOrder, updated: StoredOrder) -> StoredOrder:
        # A full PUT rather than a PATCH: a PATCH on a concurrently deleted order would leave a
        # partial document behind.
        self._write(updated)
        return updated

    def _write(self, order: StoredOrder) -> None:
        """PUT the order; when the answer is lost, ask the store whether this very write landed.

        The PUT is not sent twice (it could undo another request's write in between); its write id,
        read back, tells our write from anyone else's.
        """
        write_id = uuid.uuid4().hex
        try:
            self._documents.put(str(order.orderId), {**order.to_document(), WRITE_ID: write_id})
        except (StoreAnswerBroken, StoreTimeout, StoreUnavailable) as error:
            if not error.may_have_applied:
                raise
            try:
                stored = self._documents.get(str(order.orderId))
            except StoreError:
                raise error from None
            if stored is None or stored.get(WRITE_ID) != write_id:
                raise
            logger.info("A write whose answer was lost had been applied", order_id=str(order.orderId))

    def delete(self, order_id: UUID, owner: str | None = None) -> None:
        if owner is not None and self.get(order_id, owner) is None:
            return  # not this owner's: as good as gone for them
        self._documents.delete(str(order_id))

    def list(
        self, limit: int, cursor: str | None, status: OrderStatus | None, owner: str | None = None
    ) -> StoredPage:
        page_state = self._page_state(cursor, status)
        conditions = {"status": {"$eq": status.value}} if status else {}
        if owner is not None:
            conditions["owner"] = {"$eq": owner}
        where = conditions or None
        orders: list[StoredOrder] = []
        for _ in range(MAX_SEARCH_CALLS):
            # Ask only for what the page still lacks, so the page state never skips a document.
            page = self._documents.search(where, page_size=limit - len(orders), page_state=page_state)
            orders.extend(order for order in map(parse_order, page.documents.values()) if order is not None)
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
