"""DocumentOrderStore over recorded Stargate answers: orders in, orders out, pages and cursors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from orders_api.errors import InvalidCursor, StoreError
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store.cursor import decode_cursor, encode_cursor
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.document_api_store import DocumentOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken
from tests.unit.stored_orders import order

BASE_URL = "http://stargate.test:8082"
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

    # Then Stargate was asked for status PAID only
    assert json.loads(query_of(stargate.calls[0])["where"]) == {"status": {"$eq": "PAID"}}
    assert page.orders == [paid]


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
    assert json.loads(sent["where"]) == {"status": {"$eq": "PAID"}}


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


def writing(expected: StoredOrder) -> Callable[[Any], tuple[bool, str]]:
    """Matches a PUT of ``expected``, whatever write id it carries."""

    def match(request: Any) -> tuple[bool, str]:
        document = dict(json.loads(request.body))
        write_id = document.pop("lastWriteId", None)
        if isinstance(write_id, str) and document == expected.to_document():
            return True, ""
        return False, f"not a write of {expected.orderId} with a write id"

    return match


def test_a_write_whose_answer_was_lost_is_read_back_not_sent_again(stargate: responses.RequestsMock) -> None:
    # Given the store applies the PUT but its answer is lost
    new = order()
    stargate.get(document_url(new.orderId), body="", status=404)
    stargate.put(document_url(new.orderId), body=requests.ConnectionError("connection reset"))

    def as_written(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {}, stargate.calls[1].request.body

    stargate.add_callback(responses.GET, document_url(new.orderId), callback=as_written)

    # When the order is created
    stored, created = store().create(new)

    # Then the write was sent once and recognised by its write id when read back
    assert (stored, created) == (new, True)
    assert [call.request.method for call in stargate.calls] == ["GET", "PUT", "GET"]


def test_a_lost_write_that_someone_else_overwrote_is_a_failure_not_sent_again(
    stargate: responses.RequestsMock,
) -> None:
    # Given the PUT's answer is lost and the order holds another request's write
    current = order()
    updated = current.model_copy(update={"status": OrderStatus.PAID})
    stargate.put(document_url(current.orderId), body=requests.ConnectionError("connection reset"))
    theirs = {
        **current.model_copy(update={"status": OrderStatus.CANCELLED}).to_document(),
        "lastWriteId": "x",
    }
    stargate.get(document_url(current.orderId), json=theirs)

    # When the status is replaced
    # Then the caller gets the store failure (502), and the other write is not undone by a resend
    with pytest.raises(StoreError) as raised:
        store().replace_status(current, updated)
    assert raised.value.status_code == 502
    assert [call.request.method for call in stargate.calls] == ["PUT", "GET"]


def test_create_stores_an_absent_order(stargate: responses.RequestsMock) -> None:
    # Given no order has the id yet
    new = order()
    stargate.get(document_url(new.orderId), body="", status=404)
    stargate.put(
        document_url(new.orderId),
        json={"documentId": str(new.orderId)},
        match=[writing(new)],
    )

    # When the order is created
    stored, created = store().create(new)

    # Then it was written under its own id and reported as new
    assert (stored, created) == (new, True)
    assert [call.request.method for call in stargate.calls] == ["GET", "PUT"]


def test_create_of_an_existing_id_returns_the_stored_order_without_writing(
    stargate: responses.RequestsMock,
) -> None:
    # Given an order is already stored under the id
    existing = order(OrderStatus.PAID, name="Coffee")
    stargate.get(document_url(existing.orderId), json=existing.to_document())
    replay = existing.model_copy(update={"productName": "Tea", "status": OrderStatus.PENDING})

    # When an order with the same id is created
    stored, created = store().create(replay)

    # Then the stored one comes back, unchanged, and nothing was written
    assert (stored, created) == (existing, False)
    assert [call.request.method for call in stargate.calls] == ["GET"]


def test_get_returns_the_stored_order(stargate: responses.RequestsMock) -> None:
    # Given a stored order
    stored = order(OrderStatus.SHIPPED)
    stargate.get(document_url(stored.orderId), json=stored.to_document())

    # When it is read
    # Then it is the same order, timestamps included
    assert store().get(stored.orderId) == stored


def test_replace_status_writes_the_whole_updated_order(stargate: responses.RequestsMock) -> None:
    # Given a stored order being paid
    current = order()
    updated = current.model_copy(update={"status": OrderStatus.PAID, "updatedAt": datetime.now(UTC)})
    stargate.put(
        document_url(current.orderId),
        json={"documentId": str(current.orderId)},
        match=[writing(updated)],
    )

    # When its status is replaced
    written = store().replace_status(current, updated)

    # Then the full updated document was written and is returned
    assert written == updated


def test_delete_removes_the_document(stargate: responses.RequestsMock) -> None:
    # Given a stored order
    order_id = uuid4()
    stargate.delete(document_url(order_id), status=204)

    # When it is deleted
    store().delete(order_id)

    # Then Stargate was asked to delete that document
    assert [call.request.method for call in stargate.calls] == ["DELETE"]
