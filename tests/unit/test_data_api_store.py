"""DataApiOrderStore over recorded Data API answers: orders in, orders out, compare-and-set, pages.

Single commands are recorded with ``responses``. Listing is played by ``DataApiServer``, a small
in-memory collection that pages the way the Data API does: server-sized pages (20 before v1.0.48, 50
since) in ``_id`` order (the real server walks token order), and an opaque page state that means "after
this ``_id``", so a page re-read with the same state shows documents inserted or deleted meanwhile.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from orders_api.errors import ConcurrentUpdate, InvalidCursor, OrderDeleted, OrderNotFound, StoreError
from orders_api.models import OrderStatus, StoredOrder
from orders_api.store.cursor import encode_cursor
from orders_api.store.data_api_client import DataApiCollection
from orders_api.store.data_api_store import DataApiOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken
from tests.unit.stored_orders import CREATED, order

BASE_URL = "http://data-api.test:8181"
KEYSPACE_URL = f"{BASE_URL}/v1/shop"
COLLECTION_URL = f"{KEYSPACE_URL}/orders"
STATUSES = list(OrderStatus)


def stored_document(stored: StoredOrder) -> dict[str, Any]:
    """The document the Data API keeps for ``stored``: the order id as ``_id``, no ``orderId``."""
    document = stored.to_document()
    return {"_id": str(document.pop("orderId")), **document}


def data_api_error(code: str, **answer: Any) -> dict[str, Any]:
    error = {"family": "REQUEST", "scope": "", "errorCode": code, "title": code, "message": code}
    return {**answer, "errors": [error]}


def sent(call: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(call.request.body)
    return body


def store() -> DataApiOrderStore:
    collection = DataApiCollection(BASE_URL, "shop", "orders", FixedToken("token"), new_session(), (1.0, 2.0))
    return DataApiOrderStore(collection)


def raw_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def inserting(new: StoredOrder) -> Callable[[Any], tuple[bool, str]]:
    """Matches an insertOne of ``new``, whatever write id the attempt carries."""

    def match(request: Any) -> tuple[bool, str]:
        document = dict(json.loads(request.body).get("insertOne", {}).get("document", {}))
        write_id = document.pop("lastWriteId", None)
        if isinstance(write_id, str) and document == stored_document(new):
            return True, ""
        return False, f"not an insert of {new.orderId} with a write id"

    return match


@pytest.fixture
def data_api() -> Iterator[responses.RequestsMock]:
    """A Data API whose answers must be asked for exactly in the order they were registered."""
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        yield mock


# --- create ------------------------------------------------------------------------------------------


def test_create_inserts_the_order_under_its_id(data_api: responses.RequestsMock) -> None:
    # Given the Data API accepts the insert
    new = order()
    data_api.post(
        COLLECTION_URL,
        json={"status": {"insertedIds": [str(new.orderId)]}},
        match=[inserting(new)],
    )

    # When the order is created
    stored, created = store().create(new)

    # Then it is stored with _id = the order id (no separate orderId field) and reported new
    assert (stored, created) == (new, True)
    document = sent(data_api.calls[0])["insertOne"]["document"]
    assert document["_id"] == str(new.orderId)
    assert "orderId" not in document
    assert len(data_api.calls) == 1


def test_create_of_an_existing_id_returns_the_stored_order(data_api: responses.RequestsMock) -> None:
    # Given an order is already stored under the id
    existing = order(OrderStatus.PAID, name="Coffee")
    replay = existing.model_copy(update={"productName": "Tea", "status": OrderStatus.PENDING})
    data_api.post(COLLECTION_URL, json=data_api_error("DOCUMENT_ALREADY_EXISTS", status={"insertedIds": []}))
    data_api.post(
        COLLECTION_URL,
        json={"data": {"document": stored_document(existing)}},
        match=[matchers.json_params_matcher({"findOne": {"filter": {"_id": str(existing.orderId)}}})],
    )

    # When an order with the same id is created
    stored, created = store().create(replay)

    # Then the stored one comes back, unchanged, as not new
    assert (stored, created) == (existing, False)


def test_create_of_an_existing_id_deleted_before_the_read_is_a_concurrent_update(
    data_api: responses.RequestsMock,
) -> None:
    # Given the id exists at the insert but is gone when it is read back
    new = order()
    data_api.post(COLLECTION_URL, json=data_api_error("DOCUMENT_ALREADY_EXISTS", status={"insertedIds": []}))
    data_api.post(COLLECTION_URL, json={"data": {"document": None}})

    # When the order is created
    # Then the caller is told to retry
    with pytest.raises(ConcurrentUpdate):
        store().create(new)


@pytest.mark.parametrize("code", ["COLLECTION_NOT_EXIST", "UNKNOWN_COLLECTION_OR_TABLE"])
def test_create_in_a_missing_collection_creates_it_and_inserts_again(
    data_api: responses.RequestsMock, code: str
) -> None:
    # Given the collection does not exist yet (a new database)
    new = order()
    data_api.post(COLLECTION_URL, json=data_api_error(code), match=[inserting(new)])
    data_api.post(
        KEYSPACE_URL,
        json={"status": {"ok": 1}},
        match=[matchers.json_params_matcher({"createCollection": {"name": "orders"}})],
    )
    data_api.post(
        COLLECTION_URL,
        json={"status": {"insertedIds": [str(new.orderId)]}},
        match=[inserting(new)],
    )

    # When the first order is created
    stored, created = store().create(new)

    # Then the collection was created in the keyspace and the order stored as new
    assert (stored, created) == (new, True)
    assert [call.request.url for call in data_api.calls] == [COLLECTION_URL, KEYSPACE_URL, COLLECTION_URL]


def test_create_whose_insert_answer_was_lost_is_still_new(data_api: responses.RequestsMock) -> None:
    # Given our insert is applied but its answer is lost, so the retried insert finds the id taken
    new = order()
    data_api.post(COLLECTION_URL, status=504, match=[inserting(new)])
    data_api.post(COLLECTION_URL, json=data_api_error("DOCUMENT_ALREADY_EXISTS"), match=[inserting(new)])

    def stored_by_our_first_attempt(request: Any) -> tuple[int, dict[str, str], str]:
        first = sent(data_api.calls[0])["insertOne"]["document"]
        return 200, {}, json.dumps({"data": {"document": first}})

    data_api.add_callback(responses.POST, COLLECTION_URL, callback=stored_by_our_first_attempt)

    # When the order is created
    stored, created = store().create(new)

    # Then it is reported new (201), not as a replay of somebody's earlier request
    assert (stored, created) == (new, True)
    assert len(data_api.calls) == 3


def test_create_finding_another_requests_order_under_the_id_is_a_replay(
    data_api: responses.RequestsMock,
) -> None:
    # Given an earlier request stored the order under the id, with its own write id
    new = order()
    data_api.post(COLLECTION_URL, json=data_api_error("DOCUMENT_ALREADY_EXISTS"))
    earlier = {**stored_document(new), "lastWriteId": "0" * 32}
    data_api.post(COLLECTION_URL, json={"data": {"document": earlier}})

    # When the order is created
    # Then it is the stored order, not new (200)
    assert store().create(new) == (new, False)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({}, id="no-status"),
        pytest.param({"status": {}}, id="no-insertedIds"),
        pytest.param({"status": {"insertedIds": []}}, id="empty-insertedIds"),
        pytest.param({"status": {"insertedIds": ["another-id"]}}, id="another-id"),
        pytest.param({"status": {"insertedIds": "x"}}, id="not-a-list"),
    ],
)
def test_an_insert_answer_that_does_not_confirm_the_id_is_a_store_error(
    data_api: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    # Given the Data API answers 200 without saying it inserted our id
    data_api.post(COLLECTION_URL, json=answer)

    # When an order is created
    # Then it is a store failure (502), never a 201 for an order that may not exist
    with pytest.raises(StoreError) as raised:
        store().create(order())
    assert raised.value.status_code == 502


# --- get ---------------------------------------------------------------------------------------------


def test_get_returns_the_stored_order_with_its_id_from_underscore_id(
    data_api: responses.RequestsMock,
) -> None:
    # Given a stored order, kept with _id and without orderId
    stored = order(OrderStatus.SHIPPED)
    data_api.post(
        COLLECTION_URL,
        json={"data": {"document": stored_document(stored)}},
        match=[
            matchers.json_params_matcher(
                {"findOne": {"filter": {"_id": str(stored.orderId), "status": {"$ne": "DELETED"}}}}
            )
        ],
    )

    # When it is read (never a deleted order's tombstone)
    # Then it is the same order, id and timestamps included
    assert store().get(stored.orderId) == stored


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({}, id="empty"),
        pytest.param({"data": {}}, id="no-document"),
        pytest.param({"data": None}, id="data-null"),
        pytest.param({"status": {}}, id="status-only"),
    ],
)
def test_a_find_one_answer_without_data_document_is_a_store_error_never_none(
    data_api: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    # Given the Data API answers 200 with a malformed findOne answer
    data_api.post(COLLECTION_URL, json=answer)

    # When an order is read
    # Then it is a store failure (502): an outage must not look like a missing order (404)
    with pytest.raises(StoreError) as raised:
        store().get(uuid4())
    assert raised.value.status_code == 502


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        pytest.param("update", {}, id="update-without-status"),
        pytest.param("update", {"status": {"matchedCount": "1"}}, id="update-count-not-int"),
        pytest.param("delete", {"status": {}}, id="delete-without-count"),
        pytest.param("delete", {"status": {"deletedCount": -1}}, id="delete-negative"),
    ],
)
def test_update_and_delete_answers_without_their_counts_are_store_errors(
    data_api: responses.RequestsMock, command: str, answer: dict[str, Any]
) -> None:
    data_api.post(COLLECTION_URL, json=answer)
    current = order()

    def act() -> None:
        if command == "update":
            store().replace_status(current, paying(current))
        else:
            store().delete(current.orderId)

    with pytest.raises(StoreError) as raised:
        act()
    assert raised.value.status_code == 502


# --- replace_status ----------------------------------------------------------------------------------


def paying(current: StoredOrder) -> StoredOrder:
    return current.model_copy(
        update={"status": OrderStatus.PAID, "updatedAt": current.updatedAt + timedelta(seconds=3)}
    )


def compare_and_set(current: StoredOrder, updated: StoredOrder) -> Any:
    """A matcher for the updateOne the store must send: applies only while the status is still
    ``current``'s, and sets the new status, updatedAt and a fresh write id."""

    def match(request: Any) -> tuple[bool, str]:
        command = json.loads(request.body)
        update = command.get("updateOne", {})
        changes = dict(update.get("update", {}).get("$set", {}))
        write_id = changes.pop("lastWriteId", None)
        expected_filter = {"_id": str(current.orderId), "status": current.status.value}
        ok = (
            update.get("filter") == expected_filter
            and changes == {"status": updated.status.value, "updatedAt": "2026-03-04T05:06:10.891Z"}
            and isinstance(write_id, str)
            and len(write_id) >= 16
        )
        return ok, "" if ok else f"not the expected compare-and-set: {command}"

    return match


def sent_write_id(call: Any) -> str:
    return str(json.loads(call.request.body)["updateOne"]["update"]["$set"]["lastWriteId"])


def test_replace_status_is_a_compare_and_set_on_the_current_status(data_api: responses.RequestsMock) -> None:
    # Given the stored order is still PENDING
    current = order()
    updated = paying(current)
    data_api.post(
        COLLECTION_URL,
        json={"status": {"matchedCount": 1, "modifiedCount": 1}},
        match=[compare_and_set(current, updated)],
    )

    # When it is paid
    written = store().replace_status(current, updated)

    # Then the write applied in one call and the updated order comes back
    assert written == updated
    assert len(data_api.calls) == 1


@pytest.mark.parametrize(
    "meanwhile",
    [
        pytest.param({"status": OrderStatus.CANCELLED}, id="cancelled-meanwhile"),
        pytest.param({"updatedAt": CREATED + timedelta(seconds=1)}, id="same-status-by-someone-else"),
    ],
)
def test_replace_status_lost_to_another_writer_is_a_concurrent_update(
    data_api: responses.RequestsMock, meanwhile: dict[str, Any]
) -> None:
    # Given another request changed the order since it was read
    current = order()
    updated = paying(current)
    other = current.model_copy(update={"status": OrderStatus.PAID, **meanwhile})
    data_api.post(COLLECTION_URL, json={"status": {"matchedCount": 0, "modifiedCount": 0}})
    data_api.post(
        COLLECTION_URL,
        json={"data": {"document": stored_document(other)}},
        match=[matchers.json_params_matcher({"findOne": {"filter": {"_id": str(current.orderId)}}})],
    )

    # When the status is replaced
    # Then the caller is told to read it again
    with pytest.raises(ConcurrentUpdate):
        store().replace_status(current, updated)


def test_replace_status_whose_answer_was_lost_succeeds(data_api: responses.RequestsMock) -> None:
    # Given our write applied but its answer timed out, so the retry no longer matches
    current = order()
    updated = paying(current)
    cas = [compare_and_set(current, updated)]
    data_api.post(COLLECTION_URL, status=504, match=cas)
    data_api.post(COLLECTION_URL, json={"status": {"matchedCount": 0, "modifiedCount": 0}}, match=cas)

    def stored_by_our_first_attempt(request: Any) -> tuple[int, dict[str, str], str]:
        document = {**stored_document(updated), "lastWriteId": sent_write_id(data_api.calls[0])}
        return 200, {}, json.dumps({"data": {"document": document}})

    data_api.add_callback(responses.POST, COLLECTION_URL, callback=stored_by_our_first_attempt)

    # When the status is replaced
    written = store().replace_status(current, updated)

    # Then the caller sees success: what is stored is exactly our update
    assert written == updated
    assert len(data_api.calls) == 3


def test_replace_status_of_a_deleted_order_is_not_found(data_api: responses.RequestsMock) -> None:
    # Given the order was deleted since it was read
    current = order()
    data_api.post(COLLECTION_URL, json={"status": {"matchedCount": 0, "modifiedCount": 0}})
    data_api.post(COLLECTION_URL, json={"data": {"document": None}})

    # When the status is replaced
    # Then the caller is told the order is gone
    with pytest.raises(OrderNotFound):
        store().replace_status(current, paying(current))


# --- delete ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("matched", [1, 0])
def test_delete_leaves_a_tombstone_whether_or_not_the_order_exists(
    data_api: responses.RequestsMock, matched: int
) -> None:
    # Given the Data API finds the order (or none)
    order_id = uuid4()
    data_api.post(
        COLLECTION_URL,
        json={"status": {"matchedCount": matched, "modifiedCount": matched}},
        match=[
            matchers.json_params_matcher(
                {
                    "updateOne": {
                        "filter": {"_id": str(order_id), "status": {"$ne": "DELETED"}},
                        "update": {
                            "$set": {"status": "DELETED"},
                            "$unset": {"productName": "", "productQuantity": "", "productPrice": ""},
                        },
                    }
                }
            )
        ],
    )

    # When it is deleted
    store().delete(order_id)

    # Then that is no error: one update made it a tombstone (its product fields erased), so an insert
    # of the id landing later is refused as a duplicate instead of bringing the order back
    assert len(data_api.calls) == 1


def test_create_of_a_deleted_orders_id_is_refused(data_api: responses.RequestsMock) -> None:
    gone = order()
    data_api.post(COLLECTION_URL, json={"errors": [{"errorCode": "DOCUMENT_ALREADY_EXISTS", "message": "x"}]})
    tombstone = {**stored_document(gone), "status": "DELETED"}
    data_api.post(COLLECTION_URL, json={"data": {"document": tombstone}})

    with pytest.raises(OrderDeleted):
        store().create(gone)


# --- list: a Data API that pages -------------------------------------------------------------------


class DataApiServer:
    """An in-memory collection answering ``find`` like the Data API: pages in ``_id`` order.

    ``documents`` may be changed between calls, as other clients would. With ``state_at_full_page``
    the server also hands out a page state after a full last page (then answers one empty page), as
    Cassandra paging can.
    """

    def __init__(self, orders: list[StoredOrder], page_size: int, state_at_full_page: bool = False) -> None:
        self.documents = [stored_document(o) for o in orders]
        self.page_size = page_size
        self.state_at_full_page = state_at_full_page
        self.commands: list[dict[str, Any]] = []

    def answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        command = json.loads(request.body)
        self.commands.append(command)
        assert list(command) == ["find"], f"unexpected command {command}"
        find = command["find"]
        assert set(find) <= {"filter", "options"}
        assert set(find.get("options", {})) <= {"pageState"}
        matching = sorted(
            (d for d in self.documents if all(_holds(d.get(k), v) for k, v in find["filter"].items())),
            key=lambda d: d["_id"],
        )
        state = find.get("options", {}).get("pageState")
        if state is not None:
            after = base64.b64decode(state).decode()
            matching = [d for d in matching if d["_id"] > after]
        page = matching[: self.page_size]
        more = len(matching) > self.page_size or (self.state_at_full_page and len(page) == self.page_size)
        next_state = base64.b64encode(page[-1]["_id"].encode()).decode() if more else None
        return 200, {}, json.dumps({"data": {"documents": page, "nextPageState": next_state}})

    def insert(self, stored: StoredOrder) -> None:
        self.documents.append(stored_document(stored))

    def remove(self, order_id: UUID) -> None:
        self.documents = [d for d in self.documents if d["_id"] != str(order_id)]


def _holds(value: Any, condition: Any) -> bool:
    """A Data API filter condition: a value to equal, or ``{"$ne": value}``."""
    if isinstance(condition, dict) and set(condition) == {"$ne"}:
        return bool(value != condition["$ne"])
    return bool(value == condition)


def numbered(count: int) -> list[StoredOrder]:
    """Orders of every status with ids 10, 20, 30, ...: they sort in the order made (fixed-width hex)."""
    return [
        order(STATUSES[number % len(STATUSES)], order_id=UUID(int=(number + 1) * 10))
        for number in range(count)
    ]


def in_server_order(orders: list[StoredOrder]) -> list[UUID]:
    return sorted((o.orderId for o in orders), key=str)


@pytest.fixture
def serve() -> Iterator[Any]:
    """Starts a DataApiServer on the collection URL."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:

        def start(orders: list[StoredOrder], page_size: int = 20, **options: Any) -> DataApiServer:
            server = DataApiServer(orders, page_size, **options)
            mock.add_callback(responses.POST, COLLECTION_URL, callback=server.answer)
            return server

        yield start


def list_pages(
    orders: DataApiOrderStore, limit: int, status: OrderStatus | None = None, cursor: str | None = None
) -> Iterator[list[UUID]]:
    """Follows cursors from ``cursor`` to the last page; yields the ids of each page."""
    for _ in range(1_000):
        page = orders.list(limit, cursor, status)
        assert len(page.orders) <= limit
        yield [o.orderId for o in page.orders]
        cursor = page.next_cursor
        if cursor is None:
            return
    raise AssertionError("the cursors never came to an end")


@pytest.mark.parametrize("state_at_full_page", [False, True], ids=["exact-end", "trailing-empty-page"])
@pytest.mark.parametrize("page_size", [20, 50])
@pytest.mark.parametrize("limit", [7, 20, 1])
@pytest.mark.parametrize("count", [0, 1, 19, 20, 21, 45, 101])
def test_list_following_cursors_visits_every_order_exactly_once(
    serve: Any, count: int, limit: int, page_size: int, state_at_full_page: bool
) -> None:
    # Given a collection of ``count`` orders served in pages of ``page_size``
    everything = numbered(count)
    serve(everything, page_size, state_at_full_page=state_at_full_page)

    # When every page of ``limit`` is listed, following the cursors
    pages = list(list_pages(store(), limit))

    # Then every order came exactly once, in the server's order, and every page but the last was full
    assert [order_id for page in pages for order_id in page] == in_server_order(everything)
    assert all(len(page) == limit for page in pages[:-1])


@pytest.mark.parametrize("page_size", [20, 50])
@pytest.mark.parametrize("limit", [7, 20])
def test_list_by_status_visits_every_order_of_that_status_once(
    serve: Any, page_size: int, limit: int
) -> None:
    # Given orders of every status
    everything = numbered(101)
    server = serve(everything, page_size)

    # When the paid ones are listed, page by page
    listed = [order_id for page in list_pages(store(), limit, OrderStatus.PAID) for order_id in page]

    # Then exactly the paid orders came, once each, and the server was asked for status PAID only
    assert listed == in_server_order([o for o in everything if o.status == OrderStatus.PAID])
    assert {json.dumps(c["find"]["filter"]) for c in server.commands} == {'{"status": "PAID"}'}


def test_list_without_status_asks_for_every_order_but_the_deleted(serve: Any) -> None:
    # Given a few orders and a deleted one's tombstone
    everything = numbered(3)
    server = serve(everything)
    server.documents.append({**stored_document(order()), "status": "DELETED"})

    # When all orders are listed
    page = store().list(20, None, None)

    # Then the find left out tombstones, so the page holds every order and nothing else
    assert server.commands == [{"find": {"filter": {"status": {"$ne": "DELETED"}}, "options": {}}}]
    assert [o.orderId for o in page.orders] == in_server_order(everything)


def test_list_resumes_after_the_last_id_when_an_order_was_inserted_before_it(serve: Any) -> None:
    # Given a first page of 7 taken out of a server page of 20
    everything = numbered(30)
    server = serve(everything, 20)
    orders = store()
    first = orders.list(7, None, None)
    assert [o.orderId for o in first.orders] == in_server_order(everything)[:7]

    # When an order is inserted inside that server page, before the last one returned, and listing goes on
    server.insert(order(order_id=UUID(int=35)))  # sorts between the 3rd and the 4th
    rest = [i for page in list_pages(orders, 7, cursor=first.next_cursor) for i in page]

    # Then nothing is repeated or missed; the order inserted meanwhile may be listed too
    assert [i for i in rest if i != UUID(int=35)] == in_server_order(everything)[7:]
    assert len(rest) == len(set(rest))


def test_list_resumes_correctly_when_the_last_order_returned_was_deleted(serve: Any) -> None:
    # Given a first page of 7 taken out of a server page of 20
    everything = numbered(30)
    server = serve(everything, 20)
    orders = store()
    first = orders.list(7, None, None)
    last_returned = first.orders[-1].orderId

    # When that last order is deleted, and listing goes on
    server.remove(last_returned)
    rest = [i for page in list_pages(orders, 7, cursor=first.next_cursor) for i in page]

    # Then every order that was never deleted is still listed: the 8th comes next
    assert rest == in_server_order(everything)[7:]


def test_list_lists_no_order_twice_when_two_orders_are_inserted_before_the_last_id(serve: Any) -> None:
    # Given a first page of 19 taken out of a server page of 20
    everything = numbered(30)
    server = serve(everything, 20)
    orders = store()
    first = orders.list(19, None, None)
    listed = [o.orderId for o in first.orders]

    # When two orders are inserted early in that server page, and listing goes on
    server.insert(order(order_id=UUID(int=11)))
    server.insert(order(order_id=UUID(int=12)))
    listed += [i for page in list_pages(orders, 19, cursor=first.next_cursor) for i in page]

    # Then no order was listed twice and none of the original ones was missed
    assert len(listed) == len(set(listed))
    assert set(in_server_order(everything)) <= set(listed)


def test_list_skips_stored_documents_that_are_not_orders(serve: Any) -> None:
    # Given the collection holds orders and documents that are not orders
    kept = numbered(3)
    server = serve(kept)
    server.documents.append({"_id": "zz-stray", "hello": "world"})
    server.documents.append({**stored_document(order()), "status": "LOST"})

    # When a page is listed
    page = store().list(20, None, None)

    # Then only the orders come back
    assert [o.orderId for o in page.orders] == in_server_order(kept)
    assert page.next_cursor is None


def test_list_of_a_missing_collection_is_an_empty_last_page(data_api: responses.RequestsMock) -> None:
    # Given nothing was ever stored (no collection)
    data_api.post(COLLECTION_URL, json=data_api_error("UNKNOWN_COLLECTION_OR_TABLE"))

    # When a page is listed
    page = store().list(20, None, None)

    # Then it is empty and final
    assert (page.orders, page.next_cursor) == ([], None)


def test_list_gives_up_after_five_finds_and_hands_back_a_cursor(data_api: responses.RequestsMock) -> None:
    # Given the server keeps answering empty pages that are not the last
    for number in range(1, 6):
        data_api.post(COLLECTION_URL, json={"data": {"documents": [], "nextPageState": f"state-{number}"}})
    data_api.post(COLLECTION_URL, json={"data": {"documents": [], "nextPageState": None}})
    orders = store()

    # When a page is listed
    page = orders.list(10, None, None)

    # Then the caller gets an empty page after five finds, with a cursor that goes on from there
    assert page.orders == []
    assert len(data_api.calls) == 5
    assert orders.list(10, page.next_cursor, None).next_cursor is None
    assert sent(data_api.calls[5])["find"]["options"] == {"pageState": "state-5"}


# --- list: cursors -----------------------------------------------------------------------------------


POSITION = {"v": 1, "status": None, "pageState": None, "after": None, "skip": 0}


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(raw_cursor(POSITION | {"skip": -1}), id="negative-skip"),
        pytest.param(raw_cursor(POSITION | {"skip": "3"}), id="skip-not-a-number"),
        pytest.param(raw_cursor({k: v for k, v in POSITION.items() if k != "skip"}), id="no-skip"),
        pytest.param(raw_cursor(POSITION | {"pageState": 5}), id="page-state-a-number"),
        pytest.param(raw_cursor(POSITION | {"after": 7}), id="after-a-number"),
        pytest.param(raw_cursor(POSITION | {"v": 2}), id="other-version"),
        pytest.param(raw_cursor([1, 2]), id="not-an-object"),
        pytest.param("not-a-cursor", id="garbage"),
        pytest.param("!!!", id="not-base64"),
        pytest.param(encode_cursor(None, {"offset": 20}), id="another-store's-cursor"),
    ],
)
def test_list_with_a_damaged_cursor_is_refused(serve: Any, cursor: str) -> None:
    # Given a cursor this store did not issue, or one that was tampered with
    server = serve(numbered(3))

    # When a page is listed with it
    # Then it is refused without asking the Data API
    with pytest.raises(InvalidCursor):
        store().list(10, cursor, None)
    assert server.commands == []
