"""Order logic without HTTP: ids from idempotency keys, replays, and time that only moves forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders_api import lifecycle
from orders_api.errors import IdempotencyKeyReused, OrderNotFound, TransitionNotAllowed
from orders_api.identity import Caller
from orders_api.models import NewOrder, OrderStatus
from tests.fakes import InMemoryOrderStore

NEW = NewOrder(productName="Tea", productQuantity=1, productPrice=450)
ALICE = Caller("iam:arn:aws:iam::123456789012:user/alice", "iam")
BOB = Caller("iam:arn:aws:iam::123456789012:role/bob", "iam")


def test_an_idempotency_key_always_names_the_same_order_of_its_caller() -> None:
    assert lifecycle.order_id_for_key(ALICE, "k-1") == lifecycle.order_id_for_key(ALICE, "k-1")
    assert lifecycle.order_id_for_key(ALICE, "k-1") != lifecycle.order_id_for_key(ALICE, "k-2")


def test_the_same_key_of_two_callers_names_two_orders() -> None:
    assert lifecycle.order_id_for_key(ALICE, "checkout-7f3a") != lifecycle.order_id_for_key(
        BOB, "checkout-7f3a"
    )
    # The pair is hashed unambiguously: moving characters between caller id and key changes the id
    assert lifecycle.order_id_for_key(Caller("iam:a", "iam"), "bc") != lifecycle.order_id_for_key(
        Caller("iam:ab", "iam"), "c"
    )


def test_another_callers_key_cannot_replay_or_claim_an_order() -> None:
    store = InMemoryOrderStore()
    alices, _ = lifecycle.create_order(store, ALICE, NEW, "checkout-7f3a")

    bobs, created = lifecycle.create_order(store, BOB, NEW, "checkout-7f3a")

    assert created
    assert bobs.orderId != alices.orderId
    assert (alices.owner, bobs.owner) == (ALICE.id, BOB.id)


def test_without_a_key_every_create_is_a_new_order() -> None:
    store = InMemoryOrderStore()

    first, first_new = lifecycle.create_order(store, ALICE, NEW, None)
    second, second_new = lifecycle.create_order(store, ALICE, NEW, None)

    assert first.orderId != second.orderId
    assert first_new
    assert second_new
    assert len(store.orders) == 2


def test_a_replay_returns_the_stored_order_even_after_it_changed() -> None:
    store = InMemoryOrderStore()
    first, _ = lifecycle.create_order(store, ALICE, NEW, "key")
    lifecycle.change_status(store, ALICE, first.orderId, OrderStatus.PAID)

    replay, created = lifecycle.create_order(store, ALICE, NEW, "key")

    assert created is False
    assert replay.orderId == first.orderId
    assert replay.status is OrderStatus.PAID


def test_the_same_key_with_another_body_is_refused() -> None:
    store = InMemoryOrderStore()
    lifecycle.create_order(store, ALICE, NEW, "key")

    with pytest.raises(IdempotencyKeyReused):
        lifecycle.create_order(store, ALICE, NEW.model_copy(update={"productPrice": 451}), "key")


def test_updated_at_advances_even_when_the_clock_goes_backwards(monkeypatch: pytest.MonkeyPatch) -> None:
    store = InMemoryOrderStore()
    order, _ = lifecycle.create_order(store, ALICE, NEW, None)
    monkeypatch.setattr(lifecycle, "_now", lambda: order.updatedAt - timedelta(seconds=5))

    paid = lifecycle.change_status(store, ALICE, order.orderId, OrderStatus.PAID)

    assert paid.updatedAt > order.updatedAt
    assert paid.createdAt == order.createdAt


def test_timestamps_are_utc_with_millisecond_precision() -> None:
    order, _ = lifecycle.create_order(InMemoryOrderStore(), ALICE, NEW, None)

    assert order.createdAt.tzinfo == UTC
    assert order.createdAt.microsecond % 1000 == 0
    assert abs(datetime.now(UTC) - order.createdAt) < timedelta(seconds=5)
    assert order.public().model_dump(mode="json")["createdAt"].endswith("Z")


def test_terminal_states_allow_nothing() -> None:
    for status in (OrderStatus.DELIVERED, OrderStatus.CANCELLED):
        assert lifecycle.ALLOWED_TRANSITIONS[status] == frozenset()


def test_a_refused_transition_names_both_states() -> None:
    store = InMemoryOrderStore()
    order, _ = lifecycle.create_order(store, ALICE, NEW, None)

    with pytest.raises(TransitionNotAllowed, match="from PENDING to DELIVERED"):
        lifecycle.change_status(store, ALICE, order.orderId, OrderStatus.DELIVERED)


def test_changing_an_unknown_order_is_not_found() -> None:
    with pytest.raises(OrderNotFound):
        lifecycle.change_status(
            InMemoryOrderStore(), ALICE, lifecycle.order_id_for_key(ALICE, "x"), OrderStatus.PAID
        )


def test_the_fingerprint_ignores_key_order_but_not_values() -> None:
    same = NewOrder.model_validate({"productPrice": 450, "productQuantity": 1, "productName": "Tea"})

    assert same.fingerprint() == NEW.fingerprint()
    assert NEW.model_copy(update={"productName": "Tea "}).fingerprint() != NEW.fingerprint()
