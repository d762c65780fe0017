"""End to end: real HTTP against the API as ``make run`` starts it, over the embedded Stargate."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import STORE_APIS, RunningApi

pytestmark = pytest.mark.e2e

VALID = {"productName": "Coffee beans", "productQuantity": 2, "productPrice": 1250}


def post(api: RunningApi, body: Any, **headers: str) -> requests.Response:
    return requests.post(f"{api.url}/orders", json=body, headers=headers, timeout=10)


def all_orders(api: RunningApi, limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
    """Follow nextCursor to the end and return every item seen, in order."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    for _ in range(1000):
        response = requests.get(f"{api.url}/orders", params=params, timeout=10)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        if page["nextCursor"] is None:
            return items
        params["cursor"] = page["nextCursor"]
    raise AssertionError("nextCursor never ended")


def assert_error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    message = response.json()["message"]
    assert isinstance(message, str)
    assert message
    return message


def test_create_then_get_returns_the_stored_order(api: RunningApi) -> None:
    created = post(api, VALID)

    assert created.status_code == 201
    order = created.json()
    assert created.headers["Location"] == f"/orders/{order['orderId']}"
    assert order["status"] == "PENDING"
    fetched = requests.get(f"{api.url}{created.headers['Location']}", timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "application/json"
    assert fetched.json() == order


def test_create_errors(api: RunningApi) -> None:
    bad_json = requests.post(
        f"{api.url}/orders", data="{nope", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert_error(bad_json, 400)
    assert "productQuantity" in assert_error(post(api, {**VALID, "productQuantity": 0}), 422)
    assert "productPrice" in assert_error(post(api, {**VALID, "productPrice": "1"}), 422)
    assert "productName" in assert_error(post(api, {"productQuantity": 1, "productPrice": 1}), 422)
    assert "colour" in assert_error(post(api, {**VALID, "colour": "red"}), 422)
    huge = requests.post(
        f"{api.url}/orders",
        data=json.dumps(VALID) + " " * 70_000,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert_error(huge, 413)


def test_idempotency_key(api: RunningApi) -> None:
    key = f"checkout-{uuid.uuid4()}"
    first = post(api, VALID, **{"Idempotency-Key": key})
    again = post(api, VALID, **{"Idempotency-Key": key})
    other = post(api, {**VALID, "productQuantity": 9}, **{"Idempotency-Key": key})

    assert first.status_code == 201
    assert again.status_code in (200, 201)
    assert again.json() == first.json()
    assert_error(other, 409)
    assert_error(post(api, VALID, **{"Idempotency-Key": "k" * 129}), 422)


def test_idempotent_create_under_concurrent_retries_stores_one_order(api: RunningApi) -> None:
    key = f"retry-{uuid.uuid4()}"
    before = {order["orderId"] for order in all_orders(api)}

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: post(api, VALID, **{"Idempotency-Key": key}), range(8)))

    assert {answer.status_code for answer in answers} <= {200, 201}
    assert len({answer.json()["orderId"] for answer in answers}) == 1
    new = {order["orderId"] for order in all_orders(api)} - before
    assert new == {answers[0].json()["orderId"]}


def test_get_errors(api: RunningApi) -> None:
    assert_error(requests.get(f"{api.url}/orders/{uuid.uuid4()}", timeout=10), 404)
    assert_error(requests.get(f"{api.url}/orders/not-a-uuid", timeout=10), 422)


def test_pagination_visits_every_order_exactly_once(api: RunningApi) -> None:
    created = {post(api, {**VALID, "productQuantity": n}).json()["orderId"] for n in range(1, 46)}

    for limit in (20, 7):
        seen = [order["orderId"] for order in all_orders(api, limit=limit)]
        assert len(seen) == len(set(seen)), "an order was listed twice"
        assert created <= set(seen)


def test_list_filters_by_status_across_pages(api: RunningApi) -> None:
    cancelled = set()
    for _ in range(23):
        order_id = post(api, VALID).json()["orderId"]
        response = requests.patch(f"{api.url}/orders/{order_id}", json={"status": "CANCELLED"}, timeout=10)
        assert response.status_code == 200
        cancelled.add(order_id)

    listed = all_orders(api, limit=5, status="CANCELLED")

    assert {order["status"] for order in listed} == {"CANCELLED"}
    assert cancelled <= {order["orderId"] for order in listed}
    assert len(listed) == len({order["orderId"] for order in listed})


def test_list_errors(api: RunningApi) -> None:
    for params in ({"limit": 0}, {"limit": 21}, {"status": "LOST"}):
        assert_error(requests.get(f"{api.url}/orders", params=params, timeout=10), 422)
    assert_error(requests.get(f"{api.url}/orders", params={"cursor": "garbage"}, timeout=10), 400)


def test_status_lifecycle(api: RunningApi) -> None:
    order = post(api, VALID).json()
    url = f"{api.url}/orders/{order['orderId']}"

    paid = requests.patch(url, json={"status": "PAID"}, timeout=10)
    assert paid.status_code == 200
    assert paid.json()["status"] == "PAID"
    assert paid.json()["updatedAt"] > order["updatedAt"]
    assert_error(requests.patch(url, json={"status": "PENDING"}, timeout=10), 409)
    assert requests.patch(url, json={"status": "SHIPPED"}, timeout=10).status_code == 200
    assert requests.patch(url, json={"status": "DELIVERED"}, timeout=10).status_code == 200
    assert_error(requests.patch(url, json={"status": "CANCELLED"}, timeout=10), 409)
    assert requests.get(url, timeout=10).json()["status"] == "DELIVERED"
    missing = f"{api.url}/orders/{uuid.uuid4()}"
    assert_error(requests.patch(missing, json={"status": "PAID"}, timeout=10), 404)


def test_delete(api: RunningApi) -> None:
    order = post(api, VALID).json()
    url = f"{api.url}/orders/{order['orderId']}"

    first = requests.delete(url, timeout=10)
    again = requests.delete(url, timeout=10)

    assert first.status_code == 204
    assert first.content == b""
    assert again.status_code == 204
    assert_error(requests.get(url, timeout=10), 404)
    assert_error(requests.delete(f"{api.url}/orders/not-a-uuid", timeout=10), 422)


def test_openapi_document_is_served(api: RunningApi) -> None:
    response = requests.get(f"{api.url}/openapi.json", timeout=10)

    assert response.status_code == 200
    assert "/orders/{orderId}" in response.json()["paths"]


@pytest.mark.parametrize("store_api", STORE_APIS)
def test_orders_survive_a_restart(tmp_path: Path, store_api: str) -> None:
    setting = {"ORDERS_STORE_API": store_api}
    first = RunningApi(tmp_path / "data", setting).start()
    try:
        order = post(first, VALID, **{"Idempotency-Key": "survivor"}).json()
        requests.patch(f"{first.url}/orders/{order['orderId']}", json={"status": "PAID"}, timeout=10)
    finally:
        first.stop()

    second = RunningApi(tmp_path / "data", setting).start()
    try:
        fetched = requests.get(f"{second.url}/orders/{order['orderId']}", timeout=10)
        replay = post(second, VALID, **{"Idempotency-Key": "survivor"})
    finally:
        second.stop()

    assert fetched.status_code == 200
    assert fetched.json()["status"] == "PAID"
    assert replay.json()["orderId"] == order["orderId"]
