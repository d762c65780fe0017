"""What X-Ray receives for requests through ``lambda_handler``, with the store healthy and failing, for
both store APIs: the handler, the route and every store attempt, each a valid segment document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from orders_api.observability import tracer
from tests.api_events import invoke
from tests.xray_capture import LAMBDA_SEGMENT, TRACE_ROOT, Daemon, daemon_and_provider

from .proxy import FaultProxy, Match, Status

ORDER = {"productName": "Tea", "productQuantity": 2, "productPrice": 450}


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    """The function traced as in Lambda with a sampled invocation, sending to a local daemon."""
    with daemon_and_provider() as (listening, provider):
        monkeypatch.setattr(tracer, "provider", provider)
        yield listening


def by_name(documents: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    named: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        named.setdefault(document["name"], []).append(document)
    return named


def test_a_request_is_one_trace_of_handler_route_and_store_calls(
    proxied: FaultProxy, store_api: str, daemon: Daemon
) -> None:
    created = invoke("POST", "/orders", ORDER)
    assert created.status == 201
    daemon.datagrams()  # only the read's trace below

    answer = invoke("GET", f"/orders/{created.body['orderId']}")

    assert answer.status == 200
    named = by_name(daemon.documents())
    (handler,) = named.pop("## lambda_handler")
    (route,) = named.pop("## orders_api.routes.get_order")
    ((host, calls),) = named.items()
    assert host == "127.0.0.1"
    assert handler["parent_id"] == LAMBDA_SEGMENT
    assert handler["trace_id"] == TRACE_ROOT
    assert handler["annotations"]["Service"] == "orders"
    assert isinstance(handler["annotations"]["ColdStart"], bool)
    assert route["parent_id"] == handler["id"]
    assert [call["parent_id"] for call in calls] == [route["id"]] * len(calls)
    read = calls[-1]
    assert read["namespace"] == "remote"
    assert read["http"]["request"]["method"] == ("POST" if store_api == "data" else "GET")
    assert read["http"]["request"]["url"].startswith(proxied.url)
    assert read["http"]["response"]["status"] == 200
    # Neither the order nor the store token travel to X-Ray.
    assert "Tea" not in json.dumps([handler, route, *calls])


def test_a_failing_store_shows_each_attempt_as_a_fault_and_the_route_as_failed(
    proxied: FaultProxy, store_api: str, daemon: Daemon
) -> None:
    created = invoke("POST", "/orders", ORDER)
    daemon.datagrams()
    reads = Match(body='"findOne"') if store_api == "data" else Match(method="GET")
    proxied.add_fault(Status(503), reads)

    answer = invoke("GET", f"/orders/{created.body['orderId']}", remaining_ms=4_000)

    assert answer.status == 503
    named = by_name(daemon.documents())
    (route,) = named["## orders_api.routes.get_order"]
    attempts = named["127.0.0.1"]
    assert [a["http"]["response"]["status"] for a in attempts] == [503, 503, 503]
    assert all(a["fault"] and a["cause"]["exceptions"][0]["type"] == "StoreUnavailable" for a in attempts)
    assert route["fault"] is True
    assert route["cause"]["exceptions"][0]["message"].startswith("The store answered 503")


def test_an_unknown_order_marks_the_route_as_a_client_error_not_a_fault(
    proxied: FaultProxy, daemon: Daemon
) -> None:
    answer = invoke("GET", "/orders/0b7c6f9e-2a55-4c1e-9d3a-1f0e8c9b7a66")

    assert answer.status == 404
    (route,) = by_name(daemon.documents())["## orders_api.routes.get_order"]
    assert route["error"] is True
    assert "fault" not in route
