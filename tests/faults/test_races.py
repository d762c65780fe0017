"""Races between callers, as deployed: several Lambda execution environments (processes, each its own
init, store session and caches; ``localdev.environments``, as ``make run`` runs them) against one store,
for both store APIs, behind the fault proxy so one write can be made slow.

Each store API runs with the concurrency it is deployed with by default: the Data API store with as
many environments as Lambda starts (4 here), the Document API store with one (its reserved concurrency
of 1: it has no conditional writes, docs/stores/document-api.md). Writes whose answer comes too late
still land in the store (the proxy forwards them after the function gave up), which no concurrency
setting prevents.

Oracle, whatever the interleaving: one order per Idempotency-Key, created once (one 201); the changes
answered 200 form a sequence the lifecycle allows, in the order of their ``updatedAt``, and the order
ends in the last of them; no order comes back after a DELETE answered 204.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localdev.api import http_api_event
from localdev.environments import ExecutionEnvironments
from orders_api import names
from orders_api.lifecycle import ALLOWED_TRANSITIONS
from orders_api.models import OrderStatus

from .conftest import EmbeddedStore
from .proxy import Delay, FaultProxy, Match

ORDER = {"productName": "Tea", "productQuantity": 2, "productPrice": 450}
CALLER = {"jwt": {"claims": {"iss": "https://issuer.example", "sub": "racer", "scope": "orders/write"}}}
# The deployed default per store API: Lambda's scaling for the Data API, reserved concurrency 1 for the
# Document API (cdk_app/function.py).
DEPLOYED = {names.DATA_API: 4, names.DOCUMENT_API: 1}
# Store calls give up after this; a write held longer by the proxy lands after the function answered.
READ_TIMEOUT = 0.6
LATE = 2.0


@dataclass
class Answered:
    status: int
    body: Any


class Racers:
    """The function in ``cap`` execution environments; requests sent one by one or all at once."""

    def __init__(self, environments: ExecutionEnvironments, store_api: str, proxy: FaultProxy) -> None:
        self.environments = environments
        self.store_api = store_api
        self.proxy = proxy

    def send(self, method: str, path: str, body: Any = None, key: str | None = None) -> Answered:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        event = http_api_event(method, path, headers, json.dumps(body).encode() if body is not None else None)
        event["requestContext"]["authorizer"] = CALLER
        result = self.environments.invoke(event).result
        text = result.get("body")
        return Answered(int(result["statusCode"]), json.loads(text) if text else None)

    def at_once(self, *requests: Callable[[], Answered]) -> list[Answered]:
        """Every request released together, each on its own thread; answers in the requests' order."""
        answers: list[Answered | None] = [None] * len(requests)
        start = threading.Barrier(len(requests))

        def run(index: int) -> None:
            start.wait()
            answers[index] = requests[index]()

        threads = [threading.Thread(target=run, args=(index,)) for index in range(len(requests))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert all(answer is not None for answer in answers)
        return [answer for answer in answers if answer is not None]

    def create(self, key: str | None = None) -> str:
        answer = self.send("POST", "/orders", ORDER, key)
        assert answer.status == 201, answer.body
        return str(answer.body["orderId"])

    def change(self, order_id: str, status: OrderStatus) -> Callable[[], Answered]:
        return lambda: self.send("PATCH", f"/orders/{order_id}", {"status": status.value})

    def delete(self, order_id: str) -> Callable[[], Answered]:
        return lambda: self.send("DELETE", f"/orders/{order_id}")

    def slow_write(self) -> None:
        """The store's next create or change is forwarded only after the function stopped waiting."""
        self.proxy.add_fault(Delay(LATE), Writes(store_api=self.store_api), times=1)


@dataclass(frozen=True)
class Writes(Match):
    """A store's creates and changes (not deletes): Data API inserts and updates, Document API writes."""

    store_api: str = names.DATA_API

    def matches(self, method: str, path: str, body: bytes) -> bool:
        if self.store_api == names.DATA_API:
            return b'"insertOne"' in body or b'"updateOne"' in body or b'"findOneAndUpdate"' in body
        return method.upper() in ("PUT", "PATCH", "POST") and "/collections/" in path


@pytest.fixture(params=[names.DATA_API, names.DOCUMENT_API])
def racers(
    request: pytest.FixtureRequest,
    embedded_store: EmbeddedStore,
    fault_proxy: FaultProxy,
    collection_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Racers]:
    store_api = str(request.param)
    base = f"{fault_proxy.url}/api/json" if store_api == names.DATA_API else fault_proxy.url
    # The environments are processes of their own: they read these when they start.
    for name, value in {
        names.ORDERS_STORE_API: store_api,
        names.STORE_URL: base,
        names.STORE_NAMESPACE: embedded_store.namespace,
        names.STORE_COLLECTION: collection_name,
        names.STORE_TOKEN: embedded_store.token,
        names.STORE_READ_TIMEOUT: str(READ_TIMEOUT),
        names.ORDERS_API_AUTH: "jwt",
        names.POWERTOOLS_LOG_LEVEL: "CRITICAL",
    }.items():
        monkeypatch.setenv(name, value)
    environments = ExecutionEnvironments(DEPLOYED[store_api])
    try:
        yield Racers(environments, store_api, fault_proxy)
    finally:
        fault_proxy.settle(timeout=LATE + 5)
        environments.close()


def assert_a_history_the_lifecycle_allows(changes: list[Answered], final: Answered) -> None:
    """The 200s, ordered by their updatedAt, are a path of the lifecycle, and the order ends on the last."""
    done = sorted((a.body for a in changes if a.status == 200), key=lambda order: order["updatedAt"])
    status = OrderStatus.PENDING
    for order in done:
        after = OrderStatus(order["status"])
        assert after in ALLOWED_TRANSITIONS[status], f"{status} -> {after} in {[o['status'] for o in done]}"
        status = after
    assert final.status == 200, final.body
    assert final.body["status"] == status.value, (final.body, [o["status"] for o in done])
    for answer in changes:
        assert answer.status in (200, 409), answer.body


def test_same_key_creates_at_once_make_one_order_created_once(racers: Racers) -> None:
    answers = racers.at_once(*[lambda: racers.send("POST", "/orders", ORDER, "same-key")] * 8)

    assert sorted(answer.status for answer in answers) == [200] * 7 + [201]
    assert len({answer.body["orderId"] for answer in answers}) == 1
    listed = racers.send("GET", "/orders")
    assert [order["orderId"] for order in listed.body["items"]] == [answers[0].body["orderId"]]


def test_a_storm_of_status_changes_leaves_a_history_the_lifecycle_allows(racers: Racers) -> None:
    for _ in range(3):
        order_id = racers.create()
        storm = [OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.SHIPPED] * 3

        changes = racers.at_once(*[racers.change(order_id, status) for status in storm])

        assert_a_history_the_lifecycle_allows(changes, racers.send("GET", f"/orders/{order_id}"))


def test_no_order_comes_back_after_a_delete_racing_status_changes(racers: Racers) -> None:
    for _ in range(3):
        order_id = racers.create()

        answers = racers.at_once(racers.delete(order_id), *[racers.change(order_id, OrderStatus.PAID)] * 4)

        assert answers[0].status == 204
        assert racers.send("GET", f"/orders/{order_id}").status == 404
        assert racers.send("PATCH", f"/orders/{order_id}", {"status": "CANCELLED"}).status == 404


def test_a_slow_first_create_landing_late_undoes_nothing_its_retry_and_a_payment_did(racers: Racers) -> None:
    # Given a keyed create whose store write is slow: the function gives up on it, the store applies it later
    racers.slow_write()
    first: list[Answered] = []
    slow = threading.Thread(target=lambda: first.append(racers.send("POST", "/orders", ORDER, "k-slow")))
    slow.start()
    time.sleep(0.2)

    # When the client retries, gets its order, and pays for it
    retry = racers.send("POST", "/orders", ORDER, "k-slow")
    paid = racers.change(retry.body["orderId"], OrderStatus.PAID)()
    slow.join(timeout=30)
    racers.proxy.settle(timeout=LATE + 5)  # the slow write has now landed

    # Then there is one order, created once, and it is still paid
    assert retry.status in (200, 201), retry.body
    assert paid.status == 200, paid.body
    assert sorted(answer.status for answer in [first[0], retry] if answer.status in (200, 201)) in (
        [201],
        [200, 201],
    )
    final = racers.send("GET", f"/orders/{retry.body['orderId']}")
    assert final.body["status"] == "PAID", final.body
    assert len(racers.send("GET", "/orders").body["items"]) == 1


def test_a_status_change_landing_late_neither_undoes_a_later_one_nor_revives_a_deleted_order(
    racers: Racers,
) -> None:
    # Given an order paid and then a shipment whose write is slow (the caller gets 504: outcome unknown)
    order_id = racers.create()
    assert racers.change(order_id, OrderStatus.PAID)().status == 200
    racers.slow_write()
    shipped = racers.change(order_id, OrderStatus.SHIPPED)()

    # When the caller cancels instead, and the late shipment lands after that
    cancelled = racers.change(order_id, OrderStatus.CANCELLED)()
    racers.proxy.settle(timeout=LATE + 5)

    # Then the order is what the last answered change made it
    if shipped.status == 200:  # the function saw its write land after all: cancelling was refused
        assert cancelled.status == 409
        assert racers.send("GET", f"/orders/{order_id}").body["status"] == "SHIPPED"
    else:
        assert shipped.status == 504, shipped.body
        assert cancelled.status == 200, cancelled.body
        assert racers.send("GET", f"/orders/{order_id}").body["status"] == "CANCELLED"

    # And a deleted order stays deleted when a change sent before the DELETE lands after it
    other = racers.create()
    racers.slow_write()
    late = racers.change(other, OrderStatus.PAID)()
    assert racers.send("DELETE", f"/orders/{other}").status == 204
    racers.proxy.settle(timeout=LATE + 5)
    assert late.status in (200, 504), late.body
    assert racers.send("GET", f"/orders/{other}").status == 404


def test_a_create_landing_late_does_not_revive_the_order_deleted_meanwhile(racers: Racers) -> None:
    # Given a create whose first write is slow: the function retries it, and the caller gets the order
    racers.slow_write()
    created = racers.send("POST", "/orders", ORDER, "k-late")
    assert created.status in (201, 504), created.body
    order_id = racers.send("POST", "/orders", ORDER, "k-late").body["orderId"]

    # When the caller deletes it before the first write lands
    assert racers.send("DELETE", f"/orders/{order_id}").status == 204
    racers.proxy.settle(timeout=LATE + 5)

    # Then it stays deleted, and its key is not silently used for a new order
    assert racers.send("GET", f"/orders/{order_id}").status == 404
    replay = racers.send("POST", "/orders", ORDER, "k-late")
    assert replay.status == 409, replay.body
    assert "deleted" in replay.body["message"]
