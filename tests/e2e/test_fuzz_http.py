"""The fuzzing of ``tests/fuzz`` through HTTP: the same hostile requests, sent byte for byte to ``make run``
(its front, its execution environments, the embedded store), for each store API. Same oracle: a
documented status below 500 with a JSON message, and the API still answers afterwards."""

from __future__ import annotations

import http.client
import json
import os
from urllib.parse import quote

import pytest
from hypothesis import given, seed

from tests.fuzz.budget import FUZZ_SEED, fuzz_settings, record_cases
from tests.fuzz.hostile_requests import HostileRequest, check_answer, hostile_requests

from .conftest import RunningApi

pytestmark = pytest.mark.e2e

# Fewer than in process: each case is a real HTTP exchange.
HTTP_CASES = int(os.environ.get("FUZZ_HTTP_CASES", "1000"))
VALID = b'{"productName":"Seed","productQuantity":1,"productPrice":100}'


def send(api: RunningApi, request: HostileRequest) -> tuple[int, bytes]:
    """The request as a client puts it on the wire (the target percent-encoded as clients do)."""
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    try:
        connection.putrequest(
            request.method, quote(request.target, safe="/?&=%:@!$'()*+,;~"), skip_accept_encoding=True
        )
        for name, value in request.headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(request.body or b"")))
        connection.endheaders(request.body or None)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def seed_orders(api: RunningApi) -> tuple[str, str]:
    json_type = (("Content-Type", "application/json"),)
    ids = []
    for _ in range(3):
        status, body = send(api, HostileRequest("POST", "/orders", json_type, VALID))
        assert status == 201, body
        ids.append(json.loads(body)["orderId"])
    status, body = send(api, HostileRequest("GET", "/orders?limit=1", (), None))
    assert status == 200, body
    return ids[0], str(json.loads(body)["nextCursor"])


def test_no_hostile_request_over_http_gets_a_5xx(api: RunningApi) -> None:
    order_id, cursor = seed_orders(api)
    ran = 0

    @fuzz_settings(HTTP_CASES)
    @seed(FUZZ_SEED)
    @given(request=hostile_requests())
    def fuzz(request: HostileRequest) -> None:
        nonlocal ran
        ran += 1
        filled = request.filled(order_id, cursor)
        status, body = send(api, filled)
        check_answer(status, body, filled.method)

    fuzz()
    store_api = api.extra_env.get("ORDERS_STORE_API", "data")
    record_cases(f"HTTP against make run, {store_api} store API", ran)
    assert send(api, HostileRequest("GET", "/orders", (), None))[0] == 200
