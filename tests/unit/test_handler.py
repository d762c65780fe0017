"""The Lambda handler end to end in process: real HTTP API v2 events in, API Gateway answers out."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from localdev.api import LocalContext
from orders_api import errors, handler, observability
from orders_api.models import OrderStatus
from orders_api.settings import StoreSettings
from orders_api.store import factory
from orders_api.store.http import new_session
from tests.api_events import EVENT, Answer, invoke
from tests.fakes import InMemoryOrderStore, refused_connection

VALID = {"productName": "Coffee beans", "productQuantity": 2, "productPrice": 1250}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> InMemoryOrderStore:
    memory = InMemoryOrderStore()
    monkeypatch.setattr(factory, "_store", memory)
    return memory


def create(body: dict[str, Any] | None = None, **headers: str) -> Answer:
    return invoke("POST", "/orders", body or VALID, headers=headers)


# --- POST /orders -----------------------------------------------------------------------------------


def test_create_answers_201_with_the_stored_pending_order_and_its_location(store: InMemoryOrderStore) -> None:
    answer = create()

    assert answer.status == 201
    assert answer.headers["Content-Type"] == "application/json"
    order = answer.body
    assert answer.headers["Location"] == f"/orders/{order['orderId']}"
    assert {k: order[k] for k in VALID} == VALID
    assert order["status"] == "PENDING"
    assert order["createdAt"] == order["updatedAt"]
    assert order["createdAt"].endswith("Z")
    assert set(order) == {"orderId", *VALID, "status", "createdAt", "updatedAt"}
    assert uuid.UUID(order["orderId"]) in store.orders


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"productQuantity": 2, "productPrice": 1}, "productName"),
        ({**VALID, "productName": ""}, "productName"),
        ({**VALID, "productName": "x" * 201}, "productName"),
        ({**VALID, "productName": 7}, "productName"),
        ({**VALID, "productQuantity": "2"}, "productQuantity"),
        ({**VALID, "productQuantity": 2.5}, "productQuantity"),
        ({**VALID, "productQuantity": True}, "productQuantity"),
        ({**VALID, "productQuantity": 0}, "productQuantity"),
        ({**VALID, "productQuantity": 10_001}, "productQuantity"),
        ({**VALID, "productPrice": -1}, "productPrice"),
        ({**VALID, "productPrice": 2**53}, "productPrice"),
        ({**VALID, "productPrice": None}, "productPrice"),
        ({**VALID, "status": "PAID"}, "status"),
        ({**VALID, "discount": 5}, "discount"),
    ],
)
def test_create_refuses_an_invalid_order_with_422_naming_the_field(
    store: InMemoryOrderStore, body: dict[str, Any], field: str
) -> None:
    answer = create(body)

    assert answer.status == 422
    assert field in answer.message
    assert field in [error["field"] for error in answer.body["errors"]]
    assert store.orders == {}


def test_create_accepts_the_boundaries(store: InMemoryOrderStore) -> None:
    low = {"productName": "x", "productQuantity": 1, "productPrice": 0}
    high = {"productName": "y" * 200, "productQuantity": 10_000, "productPrice": 2**53 - 1}

    assert create(low).status == 201
    assert create(high).status == 201


@pytest.mark.parametrize("raw", ["{bad json", '{"productName": "x",}', "{"])
def test_create_with_malformed_json_is_400(store: InMemoryOrderStore, raw: str) -> None:
    answer = invoke("POST", "/orders", raw_body=raw)

    assert answer.status == 400
    assert "JSON" in answer.message


@pytest.mark.parametrize("body", [[], "text", 42])
def test_create_with_json_that_is_not_an_object_is_422(store: InMemoryOrderStore, body: Any) -> None:
    assert invoke("POST", "/orders", body).status == 422


def test_create_without_a_body_is_422(store: InMemoryOrderStore) -> None:
    answer = invoke("POST", "/orders")

    assert answer.status == 422
    assert answer.message


def test_a_body_over_64_kib_is_413_even_when_it_would_be_valid(store: InMemoryOrderStore) -> None:
    padded = json.dumps(VALID) + " " * (64 * 1024)

    answer = invoke("POST", "/orders", raw_body=padded)

    assert answer.status == 413
    assert "64 KiB" in answer.message
    assert store.orders == {}


def test_a_base64_encoded_body_over_64_kib_is_413(store: InMemoryOrderStore) -> None:
    event_body = base64.b64encode(b"x" * (64 * 1024 + 1)).decode()
    event = copy.deepcopy(EVENT)
    event.update(body=event_body, isBase64Encoded=True)

    result = handler.lambda_handler(event, LocalContext())

    assert result["statusCode"] == 413


def test_a_body_of_exactly_64_kib_is_not_refused_for_its_size(store: InMemoryOrderStore) -> None:
    body = json.dumps(VALID)
    padded = body + " " * (64 * 1024 - len(body))

    assert invoke("POST", "/orders", raw_body=padded).status == 201


# --- Idempotency-Key ----------------------------------------------------------------------------------


def test_a_repeated_idempotency_key_with_the_same_body_returns_the_same_order(
    store: InMemoryOrderStore,
) -> None:
    first = create(**{"Idempotency-Key": "order-42"})

    again = create(**{"Idempotency-Key": "order-42"})

    assert first.status == 201
    assert again.status == 200
    assert again.body == first.body
    assert again.headers["Location"] == first.headers["Location"]
    assert len(store.orders) == 1


def test_a_repeated_idempotency_key_with_another_body_is_409(store: InMemoryOrderStore) -> None:
    create(**{"Idempotency-Key": "order-42"})

    answer = create({**VALID, "productQuantity": 3}, **{"Idempotency-Key": "order-42"})

    assert answer.status == 409
    assert "Idempotency-Key" in answer.message
    assert len(store.orders) == 1


def test_different_idempotency_keys_store_different_orders(store: InMemoryOrderStore) -> None:
    create(**{"Idempotency-Key": "a"})
    create(**{"Idempotency-Key": "b"})

    assert len(store.orders) == 2


@pytest.mark.parametrize("key", ["", "k" * 129])
def test_an_idempotency_key_outside_1_to_128_characters_is_422(store: InMemoryOrderStore, key: str) -> None:
    answer = create(**{"Idempotency-Key": key})

    assert answer.status == 422
    assert "idempotency-key" in answer.message.lower()
    assert store.orders == {}


def test_an_idempotency_key_of_128_characters_is_accepted(store: InMemoryOrderStore) -> None:
    assert create(**{"Idempotency-Key": "k" * 128}).status == 201


# --- GET /orders/{orderId} ------------------------------------------------------------------------------


def test_get_returns_the_order(store: InMemoryOrderStore) -> None:
    created = create().body

    answer = invoke("GET", f"/orders/{created['orderId']}")

    assert answer.status == 200
    assert answer.body == created


def test_get_of_an_unknown_id_is_404(store: InMemoryOrderStore) -> None:
    order_id = uuid.uuid4()

    answer = invoke("GET", f"/orders/{order_id}")

    assert answer.status == 404
    assert str(order_id) in answer.message


class ExplodingStore(InMemoryOrderStore):
    def get(self, order_id: uuid.UUID) -> None:
        raise AssertionError("the store must not be called")

    def delete(self, order_id: uuid.UUID) -> None:
        raise AssertionError("the store must not be called")


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
def test_an_id_that_is_not_a_uuid_is_422_and_never_reaches_the_store(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.setattr(factory, "_store", ExplodingStore())

    answer = invoke(method, "/orders/not-a-uuid", {"status": "PAID"} if method == "PATCH" else None)

    assert answer.status == 422
    assert "orderId" in answer.message


# --- GET /orders ---------------------------------------------------------------------------------------


def test_following_next_cursor_visits_every_order_exactly_once(store: InMemoryOrderStore) -> None:
    created = {create({**VALID, "productQuantity": n}).body["orderId"] for n in range(1, 46)}

    seen: list[str] = []
    query: dict[str, str] = {"limit": "20"}
    pages = 0
    while True:
        answer = invoke("GET", "/orders", query=query)
        assert answer.status == 200
        assert len(answer.body["items"]) <= 20
        seen.extend(item["orderId"] for item in answer.body["items"])
        pages += 1
        if answer.body["nextCursor"] is None:
            break
        query = {"limit": "20", "cursor": answer.body["nextCursor"]}

    assert pages == 3
    assert sorted(seen) == sorted(created)


def test_list_defaults_to_20_per_page(store: InMemoryOrderStore) -> None:
    for _ in range(21):
        create()

    answer = invoke("GET", "/orders")

    assert len(answer.body["items"]) == 20
    assert answer.body["nextCursor"]


def test_an_empty_store_lists_no_orders(store: InMemoryOrderStore) -> None:
    assert invoke("GET", "/orders").body == {"items": [], "nextCursor": None}


def test_list_filters_by_status(store: InMemoryOrderStore) -> None:
    paid = create().body["orderId"]
    create()
    invoke("PATCH", f"/orders/{paid}", {"status": "PAID"})

    answer = invoke("GET", "/orders", query={"status": "PAID"})

    assert [item["orderId"] for item in answer.body["items"]] == [paid]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "21"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "LOST"}, "status"),
    ],
)
def test_list_with_a_bad_parameter_is_422(
    store: InMemoryOrderStore, query: dict[str, str], field: str
) -> None:
    answer = invoke("GET", "/orders", query=query)

    assert answer.status == 422
    assert field in answer.message


def test_list_with_a_cursor_not_issued_by_the_api_is_400(store: InMemoryOrderStore) -> None:
    answer = invoke("GET", "/orders", query={"cursor": "not-a-cursor!"})

    assert answer.status == 400
    assert "cursor" in answer.message


def test_a_cursor_used_with_another_status_filter_is_400(store: InMemoryOrderStore) -> None:
    for _ in range(3):
        create()
    cursor = invoke("GET", "/orders", query={"limit": "1"}).body["nextCursor"]

    answer = invoke("GET", "/orders", query={"limit": "1", "cursor": cursor, "status": "PAID"})

    assert answer.status == 400
    assert "status" in answer.message


# --- PATCH /orders/{orderId} -------------------------------------------------------------------------

ALLOWED = {
    ("PENDING", "PAID"),
    ("PENDING", "CANCELLED"),
    ("PAID", "SHIPPED"),
    ("PAID", "CANCELLED"),
    ("SHIPPED", "DELIVERED"),
}
PATH_TO = {
    "PENDING": [],
    "PAID": ["PAID"],
    "SHIPPED": ["PAID", "SHIPPED"],
    "DELIVERED": ["PAID", "SHIPPED", "DELIVERED"],
    "CANCELLED": ["CANCELLED"],
}


@pytest.mark.parametrize("current", [s.value for s in OrderStatus])
@pytest.mark.parametrize("target", [s.value for s in OrderStatus])
def test_only_the_lifecycle_transitions_are_allowed(
    store: InMemoryOrderStore, current: str, target: str
) -> None:
    order_id = create().body["orderId"]
    for step in PATH_TO[current]:
        assert invoke("PATCH", f"/orders/{order_id}", {"status": step}).status == 200
    before = invoke("GET", f"/orders/{order_id}").body

    answer = invoke("PATCH", f"/orders/{order_id}", {"status": target})

    if (current, target) in ALLOWED:
        assert answer.status == 200
        assert answer.body["status"] == target
        assert answer.body["updatedAt"] > before["updatedAt"]
        assert answer.body["createdAt"] == before["createdAt"]
        assert invoke("GET", f"/orders/{order_id}").body == answer.body
    else:
        assert answer.status == 409
        assert f"from {current} to {target}" in answer.message
        assert invoke("GET", f"/orders/{order_id}").body == before


def test_patch_of_an_unknown_order_is_404(store: InMemoryOrderStore) -> None:
    assert invoke("PATCH", f"/orders/{uuid.uuid4()}", {"status": "PAID"}).status == 404


@pytest.mark.parametrize("body", [{"status": "LOST"}, {}, {"status": "PAID", "productPrice": 1}])
def test_patch_with_a_bad_body_is_422(store: InMemoryOrderStore, body: dict[str, Any]) -> None:
    order_id = create().body["orderId"]

    assert invoke("PATCH", f"/orders/{order_id}", body).status == 422


# --- DELETE /orders/{orderId} ------------------------------------------------------------------------


def test_delete_answers_204_without_a_body_and_the_order_is_gone(store: InMemoryOrderStore) -> None:
    order_id = create().body["orderId"]

    answer = invoke("DELETE", f"/orders/{order_id}")

    assert answer.status == 204
    assert answer.body is None
    assert "Content-Type" not in answer.headers
    assert invoke("GET", f"/orders/{order_id}").status == 404


def test_delete_of_an_order_already_gone_is_204(store: InMemoryOrderStore) -> None:
    assert invoke("DELETE", f"/orders/{uuid.uuid4()}").status == 204


def test_an_idempotency_key_replayed_after_its_order_was_deleted_is_409_never_a_new_order(
    store: InMemoryOrderStore,
) -> None:
    # Given an order created with a key, then deleted
    order_id = create(**{"Idempotency-Key": "k-gone"}).body["orderId"]
    assert invoke("DELETE", f"/orders/{order_id}").status == 204

    # When the same request is sent again
    replay = create(**{"Idempotency-Key": "k-gone"})

    # Then it is refused, saying why and what to do, and nothing is stored again
    assert replay.status == 409
    assert "deleted" in replay.message
    assert "new key" in replay.message
    assert store.orders == {}


# --- Failures ------------------------------------------------------------------------------------------

TOKEN = "AstraCS:super-secret-token-value"


@pytest.fixture
def stargate(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    """The real Document API store, with Stargate's answers recorded."""
    settings = StoreSettings.from_env(
        {
            "STORE_URL": "http://stargate.test:8082",
            "STORE_NAMESPACE": "shop",
            "STORE_TOKEN": TOKEN,
            "STORE_READ_TIMEOUT": "1",
            "ORDERS_STORE_API": "documents",
        }
    )
    monkeypatch.setattr(factory, "_store", factory.build_store(settings, new_session()))
    monkeypatch.setattr("urllib3.util.retry.Retry.sleep", lambda self, response=None: None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


DOCS = "http://stargate.test:8082/v2/namespaces/shop/collections/orders"


@pytest.mark.parametrize(
    ("stargate_answer", "status"),
    [
        ({"status": 503}, 503),
        ({"status": 502}, 503),
        ({"status": 504}, 504),
        ({"status": 500, "json": {"description": "Server error", "code": 500}}, 502),
        ({"status": 401, "json": {"description": "Role unauthorized", "code": 401}}, 502),
        ({"body": refused_connection(DOCS)}, 503),
        ({"body": requests.ReadTimeout("slow")}, 504),
        ({"status": 200, "body": "<html>gateway</html>"}, 502),
        ({"status": 404, "json": {"description": "Namespace shop does not exist.", "code": 404}}, 502),
    ],
)
def test_a_failing_store_is_a_5xx_with_a_message_never_a_404_and_never_the_token(
    stargate: responses.RequestsMock, stargate_answer: dict[str, Any], status: int
) -> None:
    order_id = uuid.uuid4()
    stargate.add(responses.GET, f"{DOCS}/{order_id}", **stargate_answer)

    answer = invoke("GET", f"/orders/{order_id}")

    assert answer.status == status
    assert answer.message
    assert TOKEN not in json.dumps(answer.body)
    assert "Traceback" not in json.dumps(answer.body)
    # The caller learns the kind of failure, not the store's internals (namespace, codes, answers)
    assert "shop" not in answer.message
    assert "Namespace" not in answer.message
    assert "Server error" not in answer.message
    assert set(answer.body) == {"message", "requestId"}


def test_a_document_missing_in_stargate_is_404(stargate: responses.RequestsMock) -> None:
    order_id = uuid.uuid4()
    stargate.add(responses.GET, f"{DOCS}/{order_id}", status=404, body="")

    assert invoke("GET", f"/orders/{order_id}").status == 404


def test_missing_configuration_is_a_500_whose_log_line_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("STORE_URL", "STORE_NAMESPACE", "STORE_TOKEN", "STORE_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(factory, "_store", None)

    answer = invoke("GET", f"/orders/{uuid.uuid4()}")

    assert answer.status == 500
    # The caller learns it is a misconfiguration and the request id; the operator's log has the rest.
    assert answer.message.startswith("The service is misconfigured.")
    assert "STARGATE" not in answer.message
    assert answer.body["requestId"] == EVENT["requestContext"]["requestId"]
    [record] = [r for r in caplog.records if r.getMessage() == "Service misconfigured"]
    assert "STORE_URL" in record.error
    assert "STORE_NAMESPACE" in record.error


def test_an_unexpected_error_is_a_json_500_without_details(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(InMemoryOrderStore):
        def get(self, order_id: uuid.UUID) -> None:
            raise RuntimeError("internal detail")

    monkeypatch.setattr(factory, "_store", Broken())

    answer = invoke("GET", f"/orders/{uuid.uuid4()}")

    assert answer.status == 500
    assert "internal detail" not in answer.message


def _server_errors_counted(printed: str) -> list[dict[str, Any]]:
    """The ServerError metrics among the EMF documents a run printed."""
    documents = [json.loads(line) for line in printed.splitlines() if line.startswith('{"_aws"')]
    return [document for document in documents if "ServerError" in document]


def test_a_500_is_counted_for_the_version_that_gave_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given version 7 of the function, whose store call breaks
    class Broken(InMemoryOrderStore):
        def get(self, order_id: uuid.UUID) -> None:
            raise RuntimeError("internal detail")

    monkeypatch.setattr(factory, "_store", Broken())
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
    capsys.readouterr()

    # When it answers 500
    assert invoke("GET", f"/orders/{uuid.uuid4()}").status == 500

    # Then one ServerError is published for version 7 (what a release's rollback alarm watches)
    [document] = _server_errors_counted(capsys.readouterr().out)
    assert document["ServerError"] == [1.0]
    assert (document["service"], document["version"]) == (observability.SERVICE, "7")
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == observability.METRICS_NAMESPACE
    assert sorted(directive["Dimensions"][0]) == ["service", "version"]


def test_a_500_before_routing_is_counted_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a version deployed with a setting it cannot read
    monkeypatch.setenv("ORDERS_API_AUTH", "bogus")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "8")
    capsys.readouterr()

    assert invoke("GET", f"/orders/{uuid.uuid4()}").status == 500

    [document] = _server_errors_counted(capsys.readouterr().out)
    assert document["version"] == "8"


def test_a_callers_mistake_or_an_unavailable_store_is_not_the_versions_failure(
    store: InMemoryOrderStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert invoke("GET", f"/orders/{uuid.uuid4()}").status == 404
    assert create({**VALID, "productName": ""}).status == 422

    class Down(InMemoryOrderStore):
        def get(self, *args: Any) -> None:
            raise errors.StoreUnavailable("refused")

    monkeypatch.setattr(factory, "_store", Down())
    assert invoke("GET", f"/orders/{uuid.uuid4()}").status == 503

    assert _server_errors_counted(capsys.readouterr().out) == []


def _metric_documents(printed: str, name: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in printed.splitlines() if line.startswith('{"_aws"')]
    return [document for document in documents if name in document]


def test_the_number_that_crashed_the_function_cannot_roll_back_a_release(
    store: InMemoryOrderStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given version 9 in a canary, and an anonymous caller's number beyond decimal's exponent range
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "9")
    capsys.readouterr()
    raw = '{"productName":"Tea","productQuantity":1e1000000000000000000,"productPrice":450}'

    # When it reaches lambda_handler (an exception leaving it is what Lambda's Errors metric counts)
    answer = invoke("POST", "/orders", raw_body=raw, headers={"content-type": "application/json"})

    # Then it is the caller's 400, and neither release alarm's metric moves
    assert answer.status == 400, answer.body
    assert _server_errors_counted(capsys.readouterr().out) == []
    assert store.orders == {}


def test_whatever_breaks_the_checks_before_routing_is_a_400_for_operators_not_a_rollback(
    store: InMemoryOrderStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a version whose body checks meet an input they were never written for (the crash class
    # above, had it not been fixed)
    from decimal import InvalidOperation

    from orders_api import service

    def crash(event: dict[str, Any]) -> dict[str, Any]:
        raise InvalidOperation([InvalidOperation])

    monkeypatch.setattr(service, "checked_event", crash)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "9")
    capsys.readouterr()

    # When a request comes in, nothing leaves lambda_handler (Lambda would count an Errors datapoint)
    answer = create()

    # Then the caller gets a 400 that says what to check; no ServerError is counted for the version,
    # and the operators' UnreadableRequest metric (their alarm's dimensions) gets one
    assert answer.status == 400
    assert "could not be read" in answer.message
    printed = capsys.readouterr().out
    assert _server_errors_counted(printed) == []
    [document] = _metric_documents(printed, "UnreadableRequest")
    assert document["UnreadableRequest"] == [1.0]
    assert document["service"] == observability.SERVICE
    assert store.orders == {}


def test_an_unknown_route_is_a_json_404(store: InMemoryOrderStore) -> None:
    answer = invoke("GET", "/customers")

    assert answer.status == 404
    assert answer.headers["Content-Type"] == "application/json"
    assert "/customers" in answer.message


def test_store_errors_map_to_their_status_codes() -> None:
    assert errors.StoreError("x").status_code == 502
    assert errors.StoreUnavailable("x").status_code == 503
    assert errors.StoreTimeout("x").status_code == 504


# --- OpenAPI ----------------------------------------------------------------------------------------


def test_the_openapi_document_is_served(store: InMemoryOrderStore) -> None:
    answer = invoke("GET", "/openapi.json")

    assert answer.status == 200
    assert set(answer.body["paths"]) == {"/orders", "/orders/{orderId}"}


def test_the_committed_openapi_document_matches_the_code() -> None:
    from orders_api.openapi import render

    committed = (REPO / "openapi.json").read_text()

    assert committed == render(), "openapi.json is stale: run `make openapi` and commit the result"


def test_the_openapi_document_describes_error_answers_as_they_are_sent() -> None:
    spec = json.loads(handler.openapi_json())

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"422", "502", "503", "504"} <= set(responses), (method, path)
            for code, response in responses.items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                if int(code) >= 400:
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
                elif code != "204":
                    assert schema.get("$ref", "").split("/")[-1] in {"Order", "OrderPage"}, (method, path)
    error_fields = spec["components"]["schemas"]["ErrorBody"]["properties"]
    assert set(error_fields) == {"message", "errors", "requestId"}


def test_whole_numbers_written_as_floats_are_integers(store: InMemoryOrderStore) -> None:
    answer = create({**VALID, "productQuantity": 2.0, "productPrice": 1250.0})

    assert answer.status == 201
    assert answer.body["productQuantity"] == 2
    assert isinstance(answer.body["productQuantity"], int)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_json_is_415(store: InMemoryOrderStore, content_type: str) -> None:
    answer = invoke("POST", "/orders", VALID, headers={"content-type": content_type})

    assert answer.status == 415
    assert "application/json" in answer.message
    assert store.orders == {}


def test_a_json_media_type_with_parameters_is_accepted(store: InMemoryOrderStore) -> None:
    assert create(VALID, **{"content-type": "application/json; charset=utf-8"}).status == 201


def test_a_body_that_is_not_utf8_is_400(store: InMemoryOrderStore) -> None:
    event = copy.deepcopy(EVENT)
    event.update(body=base64.b64encode(b'{"productName": "\xff"}').decode(), isBase64Encoded=True)

    result = handler.lambda_handler(event, LocalContext())

    assert result["statusCode"] == 400
    assert "UTF-8" in json.loads(result["body"])["message"]


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        (
            '{"productName":"Tea","productQuantity":1,"productPrice":12.50}',
            422,
            "productPrice: must be a whole number of cents (minor units): 12.50 is 1250",
        ),
        (
            '{"productName":"Tea","productQuantity":"two","productPrice":1}',
            422,
            "productQuantity: must be a whole number",
        ),
        (
            '{"productName":"' + "a" * 300 + '","productQuantity":1,"productPrice":1}',
            422,
            "at most 200 characters",
        ),
        (
            '{"productName": "Tea",, "productQuantity": 1}',
            400,
            "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 23",
        ),
    ],
)
def test_a_refusal_says_what_to_send_instead(
    store: InMemoryOrderStore, raw: str, status: int, says: str
) -> None:
    answer = invoke("POST", "/orders", raw_body=raw, headers={"content-type": "application/json"})

    assert answer.status == status
    assert says in answer.message


def test_a_refused_status_change_names_the_statuses_the_order_can_take(store: InMemoryOrderStore) -> None:
    order_id = create().body["orderId"]

    skipped = invoke("PATCH", f"/orders/{order_id}", {"status": "DELIVERED"})
    invoke("PATCH", f"/orders/{order_id}", {"status": "CANCELLED"})
    finished = invoke("PATCH", f"/orders/{order_id}", {"status": "PAID"})

    assert (skipped.status, finished.status) == (409, 409)
    assert skipped.message.endswith("a PENDING order can become PAID or CANCELLED.")
    assert finished.message.endswith("a CANCELLED order cannot change any more.")
