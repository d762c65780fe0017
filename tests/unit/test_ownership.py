"""Every order belongs to its creator: another caller cannot see, list, change or delete it, and
cannot tell it exists; admins reach every order and may list one owner's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from orders_api.models import OrderStatus, StoredOrder
from orders_api.store import factory
from tests.api_events import Answer, invoke
from tests.fakes import InMemoryOrderStore

VALID = {"productName": "Tea", "productQuantity": 1, "productPrice": 450}
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/checkout/i-0bob"
OPERATOR = "arn:aws:sts::123456789012:assumed-role/operator/jane"


@pytest.fixture(autouse=True)
def store(monkeypatch: pytest.MonkeyPatch) -> InMemoryOrderStore:
    memory = InMemoryOrderStore()
    monkeypatch.setattr(factory, "_store", memory)
    monkeypatch.setenv("ADMIN_PRINCIPALS", "arn:aws:iam::123456789012:role/operator")
    return memory


def as_(caller: str, method: str, path: str, body: object = None, **query: str) -> Answer:
    return invoke(method, path, body, caller_arn=caller, query=query or None)


def alices_order() -> str:
    answer = as_(ALICE, "POST", "/orders", VALID)
    assert answer.status == 201
    return str(answer.body["orderId"])


def test_another_callers_order_is_exactly_as_absent_as_a_missing_one() -> None:
    order_id = alices_order()

    theirs = as_(BOB, "GET", f"/orders/{order_id}")
    missing = as_(BOB, "GET", f"/orders/{uuid.uuid4()}")

    assert (theirs.status, missing.status) == (404, 404)
    assert theirs.message.replace(order_id, "<id>") == missing.message.replace(
        missing.message.split()[1], "<id>"
    )


def test_another_caller_can_neither_change_nor_delete_it(store: InMemoryOrderStore) -> None:
    order_id = alices_order()

    assert as_(BOB, "PATCH", f"/orders/{order_id}", {"status": "PAID"}).status == 404
    assert as_(BOB, "DELETE", f"/orders/{order_id}").status == 204  # as for an order already gone
    assert store.orders[uuid.UUID(order_id)].status == OrderStatus.PENDING
    assert as_(ALICE, "GET", f"/orders/{order_id}").status == 200


def test_each_caller_lists_only_its_own_orders_in_full_pages(store: InMemoryOrderStore) -> None:
    for _ in range(3):
        as_(BOB, "POST", "/orders", VALID)
    alices = {alices_order() for _ in range(5)}

    first = as_(ALICE, "GET", "/orders", limit="3")
    second = as_(ALICE, "GET", "/orders", limit="3", cursor=first.body["nextCursor"])

    assert len(first.body["items"]) == 3  # pages are full: the filter is in the query
    assert {item["orderId"] for item in first.body["items"] + second.body["items"]} == alices
    assert second.body["nextCursor"] is None


def test_a_cursor_issued_to_one_caller_is_refused_for_another() -> None:
    for _ in range(3):
        alices_order()
    cursor = as_(ALICE, "GET", "/orders", limit="1").body["nextCursor"]

    assert as_(BOB, "GET", "/orders", limit="1", cursor=cursor).status == 400


def test_an_admin_reaches_every_order_and_may_list_one_owners() -> None:
    order_id = alices_order()
    as_(BOB, "POST", "/orders", VALID)

    assert as_(OPERATOR, "GET", f"/orders/{order_id}").status == 200
    assert len(as_(OPERATOR, "GET", "/orders").body["items"]) == 2
    only_alices = as_(OPERATOR, "GET", "/orders", owner=f"iam:{ALICE}").body["items"]
    assert [item["orderId"] for item in only_alices] == [order_id]
    assert as_(OPERATOR, "PATCH", f"/orders/{order_id}", {"status": "CANCELLED"}).status == 200


def test_an_admins_cursor_is_bound_to_its_owner_filter() -> None:
    for _ in range(3):
        alices_order()
    cursor = as_(OPERATOR, "GET", "/orders", limit="1", owner=f"iam:{ALICE}").body["nextCursor"]

    assert as_(OPERATOR, "GET", "/orders", limit="1", owner=f"iam:{BOB}", cursor=cursor).status == 400
    assert as_(OPERATOR, "GET", "/orders", limit="1", cursor=cursor).status == 400


def test_only_admins_may_filter_by_owner() -> None:
    answer = as_(BOB, "GET", "/orders", owner=f"iam:{ALICE}")

    assert answer.status == 403
    assert "admin" in answer.message


def test_orders_stored_before_owners_existed_are_for_admins_only(store: InMemoryOrderStore) -> None:
    now = datetime.now(UTC)
    legacy = StoredOrder(
        orderId=uuid.uuid4(),
        productName="Old",
        productQuantity=1,
        productPrice=1,
        status=OrderStatus.PENDING,
        createdAt=now,
        updatedAt=now,
    )
    store.orders[legacy.orderId] = legacy

    assert as_(ALICE, "GET", f"/orders/{legacy.orderId}").status == 404
    assert as_(ALICE, "GET", "/orders").body["items"] == []
    assert as_(OPERATOR, "GET", f"/orders/{legacy.orderId}").status == 200


def test_an_admins_cursor_over_everyone_does_not_serve_a_non_admin_listing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(3):
        alices_order()
    cursor = as_(OPERATOR, "GET", "/orders", limit="1").body["nextCursor"]
    # The same principal, no longer an admin
    monkeypatch.setenv("ADMIN_PRINCIPALS", "")

    assert as_(OPERATOR, "GET", "/orders", limit="1", cursor=cursor).status == 400


def test_a_key_whose_order_has_another_owner_is_never_replayed(store: InMemoryOrderStore) -> None:
    from orders_api.identity import Caller
    from orders_api.lifecycle import order_id_for_key

    now = datetime.now(UTC)
    taken = order_id_for_key(Caller(f"iam:{ALICE}", "iam"), "k-1")
    store.orders[taken] = StoredOrder(
        orderId=taken,
        productName="Tea",
        productQuantity=1,
        productPrice=450,
        status=OrderStatus.PENDING,
        createdAt=now,
        updatedAt=now,
    )

    answer = invoke("POST", "/orders", VALID, headers={"Idempotency-Key": "k-1"}, caller_arn=ALICE)

    assert answer.status == 409
