"""A broken store, as the function meets it: the fault proxy sits between the handler's store client and
the embedded store, for both store APIs.

Each test breaks the store one way and asserts what the caller gets (the documented code, within the
time the function has), how many attempts were made, what reached the log, and the data afterwards.
Requests go through ``lambda_handler`` in process, with a Lambda context that leaves a few seconds, so
the time budget is what it would be at the end of a 28 s invocation, only shorter.

The time bounds asserted are correctness bounds (an answer before the function would be killed),
not performance figures.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.api_events import Answer, invoke

from .conftest import EmbeddedStore
from .proxy import Answer as Respond
from .proxy import Cut, Delay, DropAnswer, Exchange, Fault, FaultProxy, Garble, Match, Stall, Status

ORDER = {"productName": "Tea", "productQuantity": 2, "productPrice": 450}
# The function's remaining time in these tests: its budget for store calls is this less 1 s.
REMAINING_MS = 4_000
# Where a cut lands inside the body of the proxy's canned answer (past the status line and headers).
IN_THE_BODY = len(Cut.CANNED.to_bytes(request_method="POST")) - 10


def timed(method: str, path: str, body: Any = None, **options: Any) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = invoke(method, path, body, remaining_ms=REMAINING_MS, **options)
    return answer, time.monotonic() - started


def assert_within_the_functions_time(elapsed: float) -> None:
    assert elapsed < REMAINING_MS / 1000, f"answered after {elapsed:.2f} s, when the function had been killed"


def reads(store_api: str) -> Match:
    return Match(body='"findOne"') if store_api == "data" else Match(method="GET")


def writes(store_api: str) -> Match:
    return Match(body='"insertOne"') if store_api == "data" else Match(method="PATCH")


def created(proxy: FaultProxy) -> str:
    """A stored order's id, created through the proxy before any fault is set."""
    answer = invoke("POST", "/orders", ORDER)
    assert answer.status == 201, answer.body
    proxy.clear_records()
    return str(answer.body["orderId"])


# --- no store to talk to ---------------------------------------------------------------------------------


def test_a_refused_connection_is_503(connect: Callable[..., None], refused_endpoint: str) -> None:
    connect(refused_endpoint)

    answer, elapsed = timed("GET", f"/orders/{uuid.uuid4()}")

    assert answer.status == 503
    assert answer.message.startswith("The order store is unavailable")
    assert_within_the_functions_time(elapsed)


def test_hanging_connects_are_504_before_the_function_times_out(
    connect: Callable[..., None], hanging_endpoint: str
) -> None:
    # Given connects hang and the timeouts are the defaults (3.05 s connect, 8 s read), which three
    # attempts could never fit into the 3 s the function has left
    connect(hanging_endpoint, connect_timeout=3.05, read_timeout=8)

    # When an order is read
    answer, elapsed = timed("GET", f"/orders/{uuid.uuid4()}")

    # Then the function answers 504 itself, before it would be killed
    assert answer.status == 504
    assert answer.message.startswith("The order store did not answer in time")
    assert_within_the_functions_time(elapsed)


# --- slow and silent stores --------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [pytest.param(Delay(2.5), id="delay"), pytest.param(Stall(), id="stall")])
def test_a_store_slower_than_the_read_timeout_is_504_never_503(
    proxied: FaultProxy, store_api: str, fault: Any
) -> None:
    order_id = created(proxied)
    proxied.add_fault(fault, reads(store_api))

    answer, elapsed = timed("GET", f"/orders/{order_id}")

    assert answer.status == 504
    assert_within_the_functions_time(elapsed)
    # 1 s read timeout and a 3 s budget: every attempt that fit was made, at most three
    assert 2 <= proxied.count(reads(store_api)) <= 3


def test_a_slow_answer_within_the_timeout_is_served(proxied: FaultProxy, store_api: str) -> None:
    order_id = created(proxied)
    proxied.add_fault(Delay(0.3), reads(store_api))

    answer, _ = timed("GET", f"/orders/{order_id}")

    assert answer.status == 200
    assert proxied.count(reads(store_api)) == 1


class Drip(Fault):
    """Answers a byte at a time, each within the read timeout: a socket timeout alone never fires.

    It gives up after the function's time, so that the test's proxy can settle.
    """

    def __init__(self, interval: float, headers_first: bool) -> None:
        self.interval = interval
        self.headers_first = headers_first

    def apply(self, exchange: Exchange) -> None:
        wire = Cut.CANNED.to_bytes(request_method=exchange.record.method)
        start = wire.index(b"\r\n\r\n") + 4 if self.headers_first else 0
        exchange.send_raw(wire[:start])
        give_up = time.monotonic() + REMAINING_MS / 1000
        for offset in range(start, len(wire)):
            if time.monotonic() > give_up or not exchange.sleep(self.interval):
                break
            exchange.send_raw(wire[offset : offset + 1])
        exchange.hang_up()


@pytest.mark.parametrize("headers_first", [True, False], ids=["body-drips", "headers-drip"])
def test_a_store_dripping_its_answer_is_504_within_the_functions_time(
    proxied: FaultProxy, store_api: str, headers_first: bool
) -> None:
    proxied.add_fault(Drip(0.3, headers_first), reads(store_api))

    answer, elapsed = timed("GET", f"/orders/{uuid.uuid4()}")

    assert answer.status == 504
    assert_within_the_functions_time(elapsed)


def test_a_redirect_is_a_store_failure_and_the_token_never_follows_it(
    proxied: FaultProxy, store_api: str, embedded_store: EmbeddedStore
) -> None:
    with FaultProxy(embedded_store.url) as elsewhere:
        proxied.add_fault(Respond(307, headers={"Location": f"{elsewhere.url}/steal"}))

        answer, _ = timed("GET", f"/orders/{uuid.uuid4()}")

        assert answer.status == 502
        assert elsewhere.count() == 0


# --- answers that are failures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "attempts", "words"),
    [
        pytest.param(Status(503), 503, 3, "unavailable", id="503"),
        pytest.param(Status(429), 503, 3, "unavailable", id="429"),
        pytest.param(Status(502), 503, 3, "unavailable", id="502"),
        pytest.param(Status(504), 504, 3, "in time", id="504"),
        pytest.param(Status(500), 502, 1, "failed", id="500"),
        pytest.param(Status(401), 502, 1, "credentials", id="401"),
        pytest.param(Status(403), 502, 1, "credentials", id="403"),
        pytest.param(Cut(), 502, 3, "cut off", id="cut-before-the-answer"),
        pytest.param(Cut(after_bytes=IN_THE_BODY), 502, 3, "cut off", id="cut-in-the-body"),
        pytest.param(Garble(), 502, 1, "failed", id="garbled"),
    ],
)
def test_each_store_failure_has_its_documented_code(
    proxied: FaultProxy, store_api: str, fault: Any, status: int, attempts: int, words: str
) -> None:
    order_id = created(proxied)
    proxied.add_fault(fault, reads(store_api))

    answer, elapsed = timed("GET", f"/orders/{order_id}")

    assert answer.status == status, answer.body
    assert words in answer.message
    assert answer.body["requestId"]
    assert proxied.count(reads(store_api)) == attempts
    assert_within_the_functions_time(elapsed)


@pytest.mark.parametrize("fault", [Status(503), Cut(), Status(504)])
def test_a_transient_failure_is_retried_and_the_caller_never_sees_it(
    proxied: FaultProxy, store_api: str, fault: Any
) -> None:
    order_id = created(proxied)
    proxied.add_fault(fault, reads(store_api), times=2)

    answer, _ = timed("GET", f"/orders/{order_id}")

    assert answer.status == 200
    assert answer.body["orderId"] == order_id
    assert proxied.count(reads(store_api)) == 3


def test_a_rejected_token_never_reaches_the_answer_or_the_log(
    connect: Callable[..., None], fault_proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    token = "AstraCS:do-not-leak-0123456789"
    connect(fault_proxy.url, token=token)
    fault_proxy.add_fault(Status(401))
    caplog.set_level(logging.DEBUG)

    answer, _ = timed("GET", f"/orders/{uuid.uuid4()}")

    assert answer.status == 502
    assert token not in str(answer.body)
    for record in caplog.records:
        assert token not in str(record.__dict__)


# --- malformed success answers (Data API) -------------------------------------------------------------------


@pytest.mark.parametrize("store_api", ["data"])
def test_a_find_one_answered_without_a_document_is_502_never_404(proxied: FaultProxy, store_api: str) -> None:
    proxied.add_fault(Respond(200, json={}), reads(store_api))

    answer, _ = timed("GET", f"/orders/{uuid.uuid4()}")

    assert answer.status == 502


@pytest.mark.parametrize("store_api", ["data"])
def test_an_insert_answered_without_the_inserted_id_is_502_never_201(
    proxied: FaultProxy, store_api: str
) -> None:
    proxied.add_fault(Respond(200, json={"status": {}}), writes(store_api))

    answer, _ = timed("POST", "/orders", ORDER)

    assert answer.status == 502
    listed = invoke("GET", "/orders")
    assert listed.body["items"] == []


# --- answers lost after the store applied the write -----------------------------------------------------


def test_a_create_whose_answer_was_lost_is_201_stored_once_and_replays_as_200(
    proxied: FaultProxy, store_api: str
) -> None:
    # Given the collection exists, and the store applies the next write but its answer is lost
    first = created(proxied)
    proxied.add_fault(DropAnswer(), writes(store_api), times=1)

    # When an order is created with an Idempotency-Key
    answer, _ = timed("POST", "/orders", ORDER, headers={"Idempotency-Key": "lost-answer-1"})

    # Then it is new (201) and exactly one order is stored. The write was sent again: the Data API
    # insert's retry finds its own write id; the Document API PATCH merges the same fields again
    assert answer.status == 201, answer.body
    assert proxied.count(writes(store_api)) == 2
    listed = invoke("GET", "/orders").body["items"]
    assert sorted(item["orderId"] for item in listed) == sorted([first, answer.body["orderId"]])
    # And a replay of the same request is recognised as one
    replay = invoke("POST", "/orders", ORDER, headers={"Idempotency-Key": "lost-answer-1"})
    assert (replay.status, replay.body) == (200, answer.body)


def test_a_status_change_whose_answer_was_lost_is_200_and_applied_once(
    proxied: FaultProxy, store_api: str
) -> None:
    order_id = created(proxied)
    change = Match(body='"updateOne"') if store_api == "data" else Match(method="PATCH")
    proxied.add_fault(DropAnswer(), change, times=1)

    answer, _ = timed("PATCH", f"/orders/{order_id}", {"status": "PAID"})

    assert proxied.count(change) == 2  # the answer was lost once, and the change sent again
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "PAID"
    assert invoke("GET", f"/orders/{order_id}").body == answer.body


def test_nothing_stored_is_lost_or_changed_by_any_fault(proxied: FaultProxy, store_api: str) -> None:
    order_ids = [created(proxied) for _ in range(2)]
    before = {order_id: invoke("GET", f"/orders/{order_id}").body for order_id in order_ids}

    # Left out: a delay (a write that arrives late is applied late; its 504 says the outcome is unknown)
    # and a garbled 200 (the Document API confirms a write by its status alone).
    for fault in (Status(503), Cut(), Status(500), Status(401)):
        proxied.add_fault(fault)
        for order_id in order_ids:
            patched = invoke("PATCH", f"/orders/{order_id}", {"status": "PAID"}, remaining_ms=REMAINING_MS)
            assert patched.status >= 500
            assert invoke("DELETE", f"/orders/{order_id}", remaining_ms=REMAINING_MS).status >= 500
        proxied.settle()
        proxied.clear()

    after = {order_id: invoke("GET", f"/orders/{order_id}").body for order_id in order_ids}
    assert after == before
