"""DocumentOrderStore over recorded Stargate answers: orders in, orders out, pages and cursors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from orders_api.errors import InvalidCursor, OrderDeleted
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store.cursor import decode_cursor, encode_cursor
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.document_api_store import DocumentOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken
from tests.unit.stored_orders import order

BASE_URL = "http://stargate.test:8082"
PAID_FILTER = {"$or": [{"statusAt_PAID": {"$exists": True}}, {"status": {"$eq": "PAID"}}]}
COLLECTION_URL = f"{BASE_URL}/v2/namespaces/shop/collections/orders"


def page_of(*orders: StoredOrder, page_state: str | None = None, **others: Any) -> dict[str, Any]:
    """Stargate's search answer holding ``orders`` (and any other documents) by id."""
    data: dict[str, Any] = {str(o.orderId): o.to_document() for o in orders}
    data.update(others)
    return {"data": data} if page_state is None else {"pageState": page_state, "data": data}


def document_url(order_id: UUID) -> str:
    return f"{COLLECTION_URL}/{order_id}"


def query_of(call: Any) -> dict[str, str]:
    parsed = parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


def store() -> DocumentOrderStore:
    documents = StargateDocuments(BASE_URL, "shop", "orders", FixedToken("token"), new_session(), (1.0, 2.0))
    return DocumentOrderStore(documents)


def raw_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.fixture
def stargate() -> Iterator[responses.RequestsMock]:
    """A Stargate whose answers must be asked for exactly in the order they were registered."""
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        yield mock


# --- list --------------------------------------------------------------------------------------------


def test_list_tops_up_a_short_page_with_exactly_what_is_missing(stargate: responses.RequestsMock) -> None:
    # Given Stargate hands back a short first page, then the rest
    first, second = [order(), order()], [order(), order(), order()]
    stargate.get(COLLECTION_URL, json=page_of(*first, page_state="state-1"))
    stargate.get(COLLECTION_URL, json=page_of(*second, page_state="state-2"))

    # When a page of five is listed
    page = store().list(5, None, None)

    # Then the caller gets five orders; the second search asked only for the three missing
    assert page.orders == first + second
    assert query_of(stargate.calls[0]) == {"page-size": "5"}
    assert query_of(stargate.calls[1]) == {"page-size": "3", "page-state": "state-1"}
    # And the cursor resumes where Stargate stopped
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, None)["pageState"] == "state-2"


def test_list_continues_from_the_cursor(stargate: responses.RequestsMock) -> None:
    # Given a first page that left a cursor
    stargate.get(COLLECTION_URL, json=page_of(order(), page_state="state-1"))
    stargate.get(COLLECTION_URL, json=page_of(order()))
    orders = store()
    cursor = orders.list(1, None, None).next_cursor

    # When the next page is listed with it
    page = orders.list(1, cursor, None)

    # Then Stargate is asked to continue from its page state, and this is the last page
    assert query_of(stargate.calls[1])["page-state"] == "state-1"
    assert len(page.orders) == 1
    assert page.next_cursor is None


def test_list_last_page_has_no_cursor(stargate: responses.RequestsMock) -> None:
    # Given fewer orders than asked for, and no page state
    stargate.get(COLLECTION_URL, json=page_of(order()))

    # When a page is listed
    page = store().list(20, None, None)

    # Then it is the last: one search, no cursor
    assert len(page.orders) == 1
    assert page.next_cursor is None
    assert len(stargate.calls) == 1


def test_list_of_an_empty_store_is_an_empty_page(stargate: responses.RequestsMock) -> None:
    # Given nothing was ever stored (the collection does not exist)
    stargate.get(
        COLLECTION_URL, json={"description": "Collection orders does not exist.", "code": 404}, status=404
    )

    # When a page is listed
    page = store().list(20, None, None)

    # Then it is empty and final
    assert page.orders == []
    assert page.next_cursor is None


def test_list_filters_by_status_in_stargate(stargate: responses.RequestsMock) -> None:
    # Given paid orders in Stargate
    paid = order(OrderStatus.PAID)
    stargate.get(COLLECTION_URL, json=page_of(paid))

    # When paid orders are listed
    page = store().list(10, None, OrderStatus.PAID)

    # Then Stargate was asked for orders ever paid (stamped, or written before stamps)
    assert json.loads(query_of(stargate.calls[0])["where"]) == PAID_FILTER
    assert page.orders == [paid]


def test_list_leaves_out_deleted_orders_and_those_that_moved_on_from_the_status(
    stargate: responses.RequestsMock,
) -> None:
    # Given a paid order, one paid and later shipped, and one paid and later deleted
    paid, shipped, deleted = order(OrderStatus.PAID), order(OrderStatus.PAID), order(OrderStatus.PAID)
    stargate.get(
        COLLECTION_URL,
        json={
            "data": {
                str(paid.orderId): stamped(paid),
                str(shipped.orderId): stamped(shipped, SHIPPED="2026-03-04T05:09:00.000Z"),
                str(deleted.orderId): stamped(deleted, DELETED="2026-03-04T05:09:00.000Z"),
            }
        },
    )
    stargate.get(COLLECTION_URL, json={"data": {str(deleted.orderId): stamped(deleted, DELETED="x")}})

    # When paid orders are listed, and then all orders from a page holding only the deleted one
    assert store().list(10, None, OrderStatus.PAID).orders == [paid]
    assert store().list(10, None, None).orders == []


def test_list_cursor_with_its_own_status_filter_is_accepted(stargate: responses.RequestsMock) -> None:
    # Given a cursor from a list of paid orders
    stargate.get(COLLECTION_URL, json=page_of(order(OrderStatus.PAID), page_state="state-paid"))
    stargate.get(COLLECTION_URL, json=page_of())
    orders = store()
    cursor = orders.list(1, None, OrderStatus.PAID).next_cursor

    # When it is used with the same filter
    orders.list(1, cursor, OrderStatus.PAID)

    # Then the search continues with both the filter and the page state
    sent = query_of(stargate.calls[1])
    assert sent["page-state"] == "state-paid"
    assert json.loads(sent["where"]) == PAID_FILTER


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor", id="garbage"),
        pytest.param("!!!", id="not-base64"),
        pytest.param("é", id="not-ascii"),
        pytest.param(raw_cursor({"v": 1, "status": None}), id="no-page-state"),
        pytest.param(raw_cursor({"v": 1, "status": None, "pageState": ""}), id="empty-page-state"),
        pytest.param(raw_cursor({"v": 1, "status": None, "pageState": 7}), id="page-state-not-a-string"),
        pytest.param(raw_cursor({"v": 2, "status": None, "pageState": "x"}), id="other-version"),
        pytest.param(raw_cursor(["v", 1]), id="not-an-object"),
        pytest.param(encode_cursor(None, {"offset": 20}), id="another-store's-cursor"),
    ],
)
def test_list_with_a_cursor_not_issued_by_this_store_is_refused(
    stargate: responses.RequestsMock, cursor: str
) -> None:
    # Given a cursor this store did not issue
    # When a page is listed with it
    # Then it is refused, without asking Stargate
    with pytest.raises(InvalidCursor):
        store().list(10, cursor, None)
    assert len(stargate.calls) == 0


def test_list_with_a_page_state_stargate_refuses_is_invalid(stargate: responses.RequestsMock) -> None:
    # Given a well-formed cursor whose page state Stargate no longer accepts
    stargate.get(COLLECTION_URL, json={"description": "Invalid page state", "code": 400}, status=400)
    cursor = encode_cursor(None, {"pageState": "stale"})

    # When a page is listed with it
    # Then the caller's cursor is declared invalid
    with pytest.raises(InvalidCursor):
        store().list(10, cursor, None)


def test_list_skips_documents_that_are_not_orders(stargate: responses.RequestsMock) -> None:
    # Given the collection holds an order and documents that are not orders
    kept = order()
    broken = order().to_document() | {"status": "LOST"}
    stargate.get(
        COLLECTION_URL,
        json=page_of(kept, stray={"hello": "world"}, broken=broken, scalar=5),
    )

    # When a page is listed
    page = store().list(10, None, None)

    # Then only the order comes back
    assert page.orders == [kept]


def test_list_asks_again_for_what_skipped_documents_left_missing(stargate: responses.RequestsMock) -> None:
    # Given the first page holds one order and one document that is not an order
    first, second = order(), order()
    stargate.get(COLLECTION_URL, json=page_of(first, stray={"hello": "world"}, page_state="state-1"))
    stargate.get(COLLECTION_URL, json=page_of(second))

    # When a page of two is listed
    page = store().list(2, None, None)

    # Then the second search asked for the one order still missing
    assert page.orders == [first, second]
    assert query_of(stargate.calls[1])["page-size"] == "1"


def test_list_gives_up_after_five_searches_and_hands_back_a_cursor(stargate: responses.RequestsMock) -> None:
    # Given Stargate keeps answering empty pages that are not the last
    for number in range(5):
        stargate.get(COLLECTION_URL, json=page_of(page_state=f"state-{number}"))

    # When a page is listed
    page = store().list(10, None, None)

    # Then the caller gets an empty page after a bounded number of searches, and can go on
    assert page.orders == []
    assert len(stargate.calls) == 5
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, None)["pageState"] == "state-4"


# --- create, get, replace_status, delete -------------------------------------------------------------


def stamped(stored: StoredOrder, **stamps: str) -> dict[str, Any]:
    """``stored`` as this store writes it: no status field, a stamp per status it has been in."""
    document = stored.to_document()
    status, at = document.pop("status"), document.pop("updatedAt")
    return {
        **document,
        f"statusAt_{status}": at,
        **{f"statusAt_{name}": when for name, when in stamps.items()},
    }


def patch_of(call: Any) -> dict[str, Any]:
    assert call.request.method == "PATCH"
    return dict(json.loads(call.request.body))


def test_create_merges_the_order_with_a_stamp_of_its_status_and_writes_no_status_field(
    stargate: responses.RequestsMock,
) -> None:
    # Given no order has the id yet
    new = order()
    stargate.get(document_url(new.orderId), body="", status=404)
    stargate.patch(document_url(new.orderId), json={"documentId": str(new.orderId)})

    # When the order is created
    stored, created = store().create(new)

    # Then its fields and a PENDING stamp at its creation were merged in: nothing a later write made
    # (a status stamp, a deletion) can be overwritten by this create, even if it lands late
    assert (stored, created) == (new, True)
    assert patch_of(stargate.calls[1]) == stamped(new)
    assert "status" not in patch_of(stargate.calls[1])


def test_a_create_whose_answer_was_lost_is_sent_again_as_it_merges_the_same_fields(
    stargate: responses.RequestsMock,
) -> None:
    new = order()
    stargate.get(document_url(new.orderId), body="", status=404)
    stargate.patch(document_url(new.orderId), body=requests.ConnectionError("connection reset"))
    stargate.patch(document_url(new.orderId), json={"documentId": str(new.orderId)})

    assert store().create(new) == (new, True)
    assert patch_of(stargate.calls[1]) == patch_of(stargate.calls[2])


def test_create_of_an_existing_id_returns_the_stored_order_without_writing(
    stargate: responses.RequestsMock,
) -> None:
    # Given an order is already stored under the id
    existing = order(OrderStatus.PAID, name="Coffee")
    stargate.get(document_url(existing.orderId), json=stamped(existing))
    replay = existing.model_copy(update={"productName": "Tea", "status": OrderStatus.PENDING})

    # When an order with the same id is created
    stored, created = store().create(replay)

    # Then the stored one comes back, unchanged, and nothing was written
    assert (stored, created) == (existing, False)
    assert [call.request.method for call in stargate.calls] == ["GET"]


def test_create_of_a_deleted_orders_id_is_refused_never_written(stargate: responses.RequestsMock) -> None:
    gone = order()
    stargate.get(document_url(gone.orderId), json=stamped(gone, DELETED="2026-03-04T05:07:00.000Z"))

    with pytest.raises(OrderDeleted):
        store().create(gone)
    assert [call.request.method for call in stargate.calls] == ["GET"]


def test_get_returns_the_stored_order(stargate: responses.RequestsMock) -> None:
    # Given a stored order
    stored = order(OrderStatus.SHIPPED)
    stargate.get(document_url(stored.orderId), json=stamped(stored))

    # When it is read
    # Then it is the same order, timestamps included
    assert store().get(stored.orderId) == stored


def test_an_order_is_in_its_latest_stamped_status_whatever_order_the_stamps_arrived_in(
    stargate: responses.RequestsMock,
) -> None:
    # Given stamps where a late write (PENDING, PAID) landed after a later change (CANCELLED)
    paid_then_cancelled = order()
    document = {
        **stamped(paid_then_cancelled, PAID="2026-03-04T05:07:00.000Z"),
        "statusAt_CANCELLED": "2026-03-04T05:08:00.000Z",
    }
    document = {"statusAt_PAID": document.pop("statusAt_PAID"), **document}
    stargate.get(document_url(paid_then_cancelled.orderId), json=document)

    # Then the order is in the status stamped last, changed at that time
    read = store().get(paid_then_cancelled.orderId)
    assert read is not None
    assert (read.status, read.updatedAt) == (OrderStatus.CANCELLED, datetime(2026, 3, 4, 5, 8, tzinfo=UTC))


def test_a_deletion_stamp_wins_over_any_later_stamp(stargate: responses.RequestsMock) -> None:
    gone = order()
    document = stamped(gone, DELETED="2026-03-04T05:07:00.000Z", PAID="2026-03-04T05:09:00.000Z")
    stargate.get(document_url(gone.orderId), json=document)

    assert store().get(gone.orderId) is None


def test_an_order_written_before_stamps_reads_as_its_status_field(stargate: responses.RequestsMock) -> None:
    legacy = order(OrderStatus.PAID)
    stargate.get(document_url(legacy.orderId), json={**legacy.to_document(), "lastWriteId": "x"})

    assert store().get(legacy.orderId) == legacy


def test_replace_status_merges_only_the_new_statuss_stamp(stargate: responses.RequestsMock) -> None:
    # Given a stored order being paid
    current = order()
    updated = current.model_copy(
        update={"status": OrderStatus.PAID, "updatedAt": datetime(2026, 3, 4, 5, 7, 0, 5000, tzinfo=UTC)}
    )
    stargate.patch(document_url(current.orderId), json={"documentId": str(current.orderId)})

    # When its status is replaced
    written = store().replace_status(current, updated)

    # Then one stamp was merged: nothing else of the document can be undone by this write
    assert written == updated
    assert patch_of(stargate.calls[0]) == {"statusAt_PAID": "2026-03-04T05:07:00.005Z"}


def test_delete_stamps_the_order_deleted_and_erases_its_product_fields(
    stargate: responses.RequestsMock,
) -> None:
    # Given a stored order
    stored = order()
    stargate.get(document_url(stored.orderId), json=stamped(stored))
    stargate.patch(document_url(stored.orderId), json={"documentId": str(stored.orderId)})

    # When it is deleted
    store().delete(stored.orderId)

    # Then a deletion stamp was merged and the product fields emptied; id, owner, fingerprint stay
    written = patch_of(stargate.calls[1])
    assert set(written) == {"statusAt_DELETED", "productName", "productQuantity", "productPrice"}
    assert [written[name] for name in ("productName", "productQuantity", "productPrice")] == [None] * 3


def test_delete_of_a_missing_or_deleted_order_writes_nothing(stargate: responses.RequestsMock) -> None:
    missing, gone = uuid4(), order()
    stargate.get(document_url(missing), body="", status=404)
    stargate.get(document_url(gone.orderId), json=stamped(gone, DELETED="2026-03-04T05:07:00.000Z"))

    store().delete(missing)
    store().delete(gone.orderId)

    assert [call.request.method for call in stargate.calls] == ["GET", "GET"]
