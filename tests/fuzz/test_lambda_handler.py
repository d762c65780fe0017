"""Differential fuzzing of the whole function: hostile requests through ``lambda_handler``, for each store
API, over the embedded server (the same routes, store clients and store answers as ``make run``).

Oracle (``hostile_requests.check_answer``): nothing raises out of ``lambda_handler`` (Lambda would count
a crash), every answer is a documented status below 500 (a caller can never make the function fail, nor
roll back a release), and every refusal is a JSON object with a message. Hypothesis draws a fixed
sequence (one seed, ``FUZZ_SEED``), ``FUZZ_CASES`` requests per store API (20,000 by default); the
count run is printed at the end of the test session.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from localdev.api import LocalContext, http_api_event
from localdev.run import create_namespace
from localdev.stargate import start_in_thread
from orders_api import names
from orders_api.handler import lambda_handler
from orders_api.settings import StoreSettings
from orders_api.store import factory
from orders_api.store.http import new_session
from tests.fuzz.budget import FUZZ_CASES, FUZZ_SEED, fuzz_settings, record_cases
from tests.fuzz.hostile_requests import HostileRequest, check_answer, hostile_requests

TOKEN = "fuzz-token-" + uuid.uuid4().hex
NAMESPACE = "fuzz"
ISSUER = "https://issuer.example"
CALLERS: list[dict[str, Any] | None] = [
    {"jwt": {"claims": {"iss": ISSUER, "sub": "alice", "scope": "orders/read orders/write"}}},
    {"jwt": {"claims": {"iss": ISSUER, "sub": "bob", "scope": "orders/read orders/write"}}},
    {"jwt": {"claims": {"iss": ISSUER, "sub": "root", "scope": "[orders/read orders/admin]"}}},
    None,
]
ALICE = CALLERS[0]
JUNK_AUTHORIZERS = st.dictionaries(
    st.sampled_from(["jwt", "iam", "lambda"]),
    st.dictionaries(
        st.sampled_from(["claims", "scopes", "userArn"]),
        st.one_of(
            st.text(max_size=20),
            st.dictionaries(st.sampled_from(["iss", "sub", "scope", "scp"]), st.text(max_size=30)),
            st.lists(st.text(max_size=10), max_size=3),
        ),
    ),
    max_size=2,
)
# Mostly callers API Gateway would let through (one in ten not), so requests reach routes and store.
AUTHORIZERS = st.sampled_from(["caller"] * 9 + ["other"]).flatmap(
    lambda kind: st.sampled_from(CALLERS[:3]) if kind == "caller" else st.none() | JUNK_AUTHORIZERS
)


@pytest.fixture(scope="module")
def embedded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_in_thread(port=0, data_dir=Path(tmp_path_factory.mktemp("fuzz-store")), token=TOKEN)
    try:
        create_namespace(server.url, NAMESPACE)
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=[names.DATA_API, names.DOCUMENT_API])
def function_over(request: pytest.FixtureRequest, embedded_url: str) -> Iterator[str]:
    """The function's store pointed at the embedded server in one store API, callers signed in by JWT."""
    store_api = str(request.param)
    store_settings = StoreSettings.from_env(
        {
            names.ORDERS_STORE_API: store_api,
            names.STORE_URL: f"{embedded_url}/api/json" if store_api == names.DATA_API else embedded_url,
            names.STORE_NAMESPACE: NAMESPACE,
            names.STORE_COLLECTION: f"fuzz_{store_api}",
            names.STORE_TOKEN: TOKEN,
            # A busy CI machine must not turn a slow answer of the embedded store into a 504 here: the
            # oracle is about what callers can cause, and the store's own failures are tests/faults'.
            names.STORE_CONNECT_TIMEOUT: "10",
            names.STORE_READ_TIMEOUT: "25",
        }
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(factory, "_store", factory.build_store(store_settings, new_session()))
        patch.setenv(names.ORDERS_API_AUTH, "jwt")
        patch.setenv(names.POWERTOOLS_LOG_LEVEL, "CRITICAL")
        yield store_api


def call(request: HostileRequest, authorizer: dict[str, Any] | None) -> tuple[int, bytes]:
    """The request through lambda_handler as API Gateway would hand it over; (status, body bytes)."""
    event = http_api_event(request.method, request.target, request.headers, request.body)
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    result = lambda_handler(event, LocalContext())
    body = result.get("body") or ""
    return int(result["statusCode"]), str(body).encode("utf-8", "surrogatepass")


def seed_order() -> str:
    """A new PENDING order of alice's: what ``{order}`` stands for until it is deleted or finished."""
    order = HostileRequest(
        "POST",
        "/orders",
        (("Content-Type", "application/json"),),
        b'{"productName":"Seed","productQuantity":1,"productPrice":100}',
    )
    status, body = call(order, ALICE)
    assert status == 201, body
    return str(json.loads(body)["orderId"])


def finished(request: HostileRequest, body: bytes) -> bool:
    """Whether the answer is an order changed into a status with no way out."""
    return request.method == "PATCH" and json.loads(body).get("status") in ("CANCELLED", "DELIVERED")


def seed_cursor() -> str:
    """A cursor into alice's listing: what ``{cursor}`` stands for."""
    seed_order()
    seed_order()
    status, body = call(HostileRequest("GET", "/orders?limit=1", (), None), ALICE)
    assert status == 200, body
    cursor = json.loads(body)["nextCursor"]
    assert cursor
    return str(cursor)


def test_no_hostile_request_gets_a_5xx_or_escapes_lambda_handler(function_over: str) -> None:
    cursor = seed_cursor()
    order_id = seed_order()
    ran = 0

    @fuzz_settings(FUZZ_CASES)
    @seed(FUZZ_SEED)
    @given(request=hostile_requests(), authorizer=AUTHORIZERS)
    def fuzz(request: HostileRequest, authorizer: dict[str, Any] | None) -> None:
        nonlocal ran, order_id
        ran += 1
        filled = request.filled(order_id, cursor)
        status, body = call(filled, authorizer)
        check_answer(status, body, filled.method)
        # Keep {order} an order that can still change, so status changes keep reaching the store.
        if order_id in filled.target and (status == 204 or (status == 200 and finished(filled, body))):
            order_id = seed_order()

    fuzz()
    record_cases(f"lambda_handler, {function_over} store API", ran)
    assert ran >= min(FUZZ_CASES, 1000)
