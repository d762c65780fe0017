"""The Astra Data API dialect (``/api/json/v1``) over real HTTP, next to the Document API on one port."""

from __future__ import annotations

import base64
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.stargate import Role, RunningServer, open_backend, start_in_thread
from localdev.stargate.__main__ import parse_args

from .data_client import DATA_API_PATH, DataApiClient, error_codes
from .docs_client import TIMEOUT, DocsClient

KEYSPACE = "orders_test"
ORDERS = f"/{KEYSPACE}/orders"
FIXED_TOKEN = "local-token"


def _credentials_token(username: str, password: str) -> str:
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    return f"Cassandra:{encode(username)}:{encode(password)}"


@pytest.fixture
def data_api(stargate: RunningServer, session: requests.Session, token: str) -> DataApiClient:
    return DataApiClient(stargate.url, session, token)


@pytest.fixture
def keyspace(data_api: DataApiClient) -> str:
    assert data_api.run("", "createKeyspace", {"name": KEYSPACE}) == {"status": {"ok": 1}}
    return f"/{KEYSPACE}"


@pytest.fixture
def orders(data_api: DataApiClient, keyspace: str) -> str:
    assert data_api.run(keyspace, "createCollection", {"name": "orders"}) == {"status": {"ok": 1}}
    return ORDERS


def _started(data_dir: Path, **settings: Any) -> RunningServer:
    return start_in_thread(port=0, data_dir=data_dir, token=FIXED_TOKEN, **settings)


def _client_with_orders(server: RunningServer, session: requests.Session) -> DataApiClient:
    client = DataApiClient(server.url, session, FIXED_TOKEN)
    client.run("", "createKeyspace", {"name": KEYSPACE})
    client.run(f"/{KEYSPACE}", "createCollection", {"name": "orders"})
    return client


def _nested(levels: int) -> dict[str, Any]:
    """``levels`` objects, each inside the one before."""
    nested: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        nested = {"a": nested}
    return nested


def _insert(client: DataApiClient, path: str, *documents: dict[str, Any]) -> None:
    body = client.run(path, "insertMany", {"documents": list(documents)})
    assert "errors" not in body, body


# Auth, content type, routing --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Token": "not-a-token"},
        {"Token": "5d7b5f4e-2f62-4d55-9b7c-3a1b2c3d4e5f"},
        {"Token": _credentials_token("cassandra", "wrong")},
        {"Token": "Cassandra:not-base64:x"},
    ],
    ids=["missing", "garbage", "unknown-uuid", "wrong-password", "malformed-credentials"],
)
def test_missing_or_rejected_tokens_get_401_with_a_data_api_error(
    stargate: RunningServer, session: requests.Session, headers: dict[str, str]
) -> None:
    response = session.post(
        f"{stargate.url}{DATA_API_PATH}", json={"findKeyspaces": {}}, headers=headers, timeout=TIMEOUT
    )

    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED_REQUEST"]
    assert response.json()["errors"][0]["scope"] == "SECURITY"  # as in the real server's catalogue


@pytest.mark.parametrize("header", ["Token", "X-Cassandra-Token"])
def test_a_token_from_v1_auth_is_accepted_in_token_or_x_cassandra_token(
    stargate: RunningServer, session: requests.Session, token: str, header: str
) -> None:
    response = session.post(
        f"{stargate.url}{DATA_API_PATH}", json={"findKeyspaces": {}}, headers={header: token}, timeout=TIMEOUT
    )

    assert (response.status_code, response.json()) == (200, {"status": {"keyspaces": []}})


def test_cassandra_credentials_tokens_and_the_fixed_token_are_accepted(
    data_dir: Path, session: requests.Session
) -> None:
    with _started(data_dir) as server:
        for token in (_credentials_token("cassandra", "cassandra"), FIXED_TOKEN):
            response = DataApiClient(server.url, session, token).post("", {"findKeyspaces": {}})
            assert response.status_code == 200, (token, response.text)


def test_token_wins_over_x_cassandra_token(data_api: DataApiClient) -> None:
    response = data_api.post("", {"findKeyspaces": {}}, headers={"Token": "bad", "X-Cassandra-Token": "x"})

    assert response.status_code == 401


def test_a_body_not_declared_json_is_415(data_api: DataApiClient) -> None:
    response = data_api.post("", None, data='{"findKeyspaces": {}}', headers={"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert error_codes(response.json()) == ["UNSUPPORTED_CONTENT_TYPE"]


def test_wrong_paths_are_404_and_wrong_methods_405(data_api: DataApiClient, orders: str) -> None:
    too_deep = data_api.post(f"{orders}/extra", {"findOne": {}})
    other_version = data_api.session.post(
        data_api.base_url.replace("/v1", "/v2"), json={"findKeyspaces": {}}, timeout=TIMEOUT
    )
    get = data_api.session.get(data_api.base_url + orders, headers={"Token": data_api.token}, timeout=TIMEOUT)

    assert (too_deep.status_code, other_version.status_code, get.status_code) == (404, 404, 405)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "REQUEST_NOT_JSON"),
        (b"", "REQUEST_NOT_JSON"),
        (b'{"a": 1e999}', "REQUEST_NOT_JSON"),
        (b"[]", "REQUEST_STRUCTURE_MISMATCH"),
        (b'{"findOne": {}, "find": {}}', "REQUEST_STRUCTURE_MISMATCH"),
        (b'{"findOne": 3}', "REQUEST_STRUCTURE_MISMATCH"),
    ],
)
def test_malformed_bodies_are_200_with_an_error(
    data_api: DataApiClient, orders: str, raw: bytes, code: str
) -> None:
    response = data_api.post(orders, None, data=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 200
    assert error_codes(response.json()) == [code]


# Keyspaces and collections ----------------------------------------------------------------------


def test_create_collection_is_idempotent_and_find_collections_lists_it(
    data_api: DataApiClient, keyspace: str
) -> None:
    first = data_api.run(keyspace, "createCollection", {"name": "orders"})
    again = data_api.run(keyspace, "createCollection", {"name": "orders"})
    data_api.run(keyspace, "createCollection", {"name": "customers"})

    listed = data_api.run(keyspace, "findCollections")
    explained = data_api.run(keyspace, "findCollections", {"options": {"explain": True}})

    assert first == again == {"status": {"ok": 1}}
    assert listed == {"status": {"collections": ["customers", "orders"]}}
    assert [entry["name"] for entry in explained["status"]["collections"]] == ["customers", "orders"]


def test_delete_collection_removes_it_and_its_documents(data_api: DataApiClient, orders: str) -> None:
    _insert(data_api, orders, {"_id": "o1"})

    deleted = data_api.run(f"/{KEYSPACE}", "deleteCollection", {"name": "orders"})
    data_api.run(f"/{KEYSPACE}", "createCollection", {"name": "orders"})

    assert deleted == {"status": {"ok": 1}}
    assert data_api.run(orders, "countDocuments", {"filter": {}}) == {"status": {"count": 0}}


@pytest.mark.parametrize("name", ["has-dash", "", "x" * 49])
def test_invalid_collection_names_are_refused(data_api: DataApiClient, keyspace: str, name: str) -> None:
    body = data_api.run(keyspace, "createCollection", {"name": name})

    assert error_codes(body) == ["COMMAND_FIELD_VALUE_INVALID"]


def test_keyspaces_are_shared_with_the_document_api_but_collections_are_not(
    data_api: DataApiClient, client: DocsClient
) -> None:
    # Given one keyspace made by each dialect
    data_api.run("", "createKeyspace", {"name": "made_by_data_api"})
    assert client.post("/v2/schemas/namespaces", json={"name": "made_by_docs_api"}).status_code == 201

    # When both list them, and each makes an "orders" collection in the other's keyspace
    keyspaces = data_api.run("", "findKeyspaces")["status"]["keyspaces"]
    namespaces = client.get("/v2/schemas/namespaces", params={"raw": "true"}).json()
    data_api.run("/made_by_docs_api", "createCollection", {"name": "orders"})
    _insert(data_api, "/made_by_docs_api/orders", {"_id": "from-data-api", "n": 1})
    client.put("/v2/namespaces/made_by_docs_api/collections/orders/from-docs-api", json={"n": 2})

    # Then both see both keyspaces, and each dialect sees only its own documents
    assert set(keyspaces) == {"made_by_data_api", "made_by_docs_api"}
    assert {entry["name"] for entry in namespaces} == {"made_by_data_api", "made_by_docs_api"}
    found = data_api.run("/made_by_docs_api/orders", "find")["data"]["documents"]
    assert found == [{"_id": "from-data-api", "n": 1}]
    docs_listing = client.get("/v2/namespaces/made_by_docs_api/collections", params={"raw": "true"}).json()
    assert [entry["name"] for entry in docs_listing] == ["orders"]
    docs_search = client.search("/v2/namespaces/made_by_docs_api/collections/orders", page_size=20).json()
    assert list(docs_search["data"]) == ["from-docs-api"]


def test_drop_keyspace_removes_it_for_both_dialects(data_api: DataApiClient, client: DocsClient) -> None:
    data_api.run("", "createKeyspace", {"name": "short_lived"})

    dropped = data_api.run("", "dropKeyspace", {"name": "short_lived"})

    assert dropped == {"status": {"ok": 1}}
    assert client.get("/v2/schemas/namespaces/short_lived").status_code == 404


# Inserts and reads ------------------------------------------------------------------------------


def test_insert_one_returns_the_id_and_find_one_returns_the_document(
    data_api: DataApiClient, orders: str
) -> None:
    document = {"_id": "o1", "status": "PENDING", "total": 2**63 + 1, "price": 19.99, "tags": ["a"]}

    inserted = data_api.run(orders, "insertOne", {"document": document})
    found = data_api.run(orders, "findOne", {"filter": {"_id": "o1"}})

    assert inserted == {"status": {"insertedIds": ["o1"]}}
    # Integers come back exactly (the Document API would have made a double of 2**63 + 1).
    assert found == {"data": {"document": document}}


def test_insert_one_without_id_generates_a_uuid_string(data_api: DataApiClient, orders: str) -> None:
    inserted = data_api.run(orders, "insertOne", {"document": {"status": "NEW"}})

    (new_id,) = inserted["status"]["insertedIds"]
    found = data_api.run(orders, "findOne", {"filter": {"_id": new_id}})
    assert str(uuid.UUID(new_id)) == new_id
    assert found["data"]["document"] == {"_id": new_id, "status": "NEW"}


def test_inserting_a_duplicate_id_is_200_with_document_already_exists(
    data_api: DataApiClient, orders: str
) -> None:
    data_api.run(orders, "insertOne", {"document": {"_id": "o1", "v": 1}})

    again = data_api.run(orders, "insertOne", {"document": {"_id": "o1", "v": 2}})

    assert again["status"] == {"insertedIds": []}
    assert error_codes(again) == ["DOCUMENT_ALREADY_EXISTS"]
    error = again["errors"][0]
    assert {"id", "family", "scope", "errorCode", "title", "message"} <= set(error)
    assert (error["family"], error["scope"]) == ("REQUEST", "DOCUMENT")
    assert data_api.run(orders, "findOne", {"filter": {"_id": "o1"}})["data"]["document"]["v"] == 1


def test_insert_many_unordered_reports_duplicates_and_inserts_the_rest(
    data_api: DataApiClient, orders: str
) -> None:
    data_api.run(orders, "insertOne", {"document": {"_id": "b"}})

    body = data_api.run(orders, "insertMany", {"documents": [{"_id": "a"}, {"_id": "b"}, {"_id": "c"}]})

    assert body["status"] == {"insertedIds": ["a", "c"]}
    assert error_codes(body) == ["DOCUMENT_ALREADY_EXISTS"]
    assert body["errors"][0]["documentIds"] == ["b"]


def _insert_many(data_api: DataApiClient, path: str, documents: list[Any], **options: Any) -> dict[str, Any]:
    return data_api.run(path, "insertMany", {"documents": documents, "options": options})


def test_insert_many_with_document_responses_reports_each_document_in_input_order(
    data_api: DataApiClient, orders: str
) -> None:
    body = _insert_many(
        data_api,
        orders,
        [{"_id": "d1"}, {"n": 2}, {"_id": {"$uuid": str(uuid.UUID(int=7))}}],
        ordered=True,
        returnDocumentResponses=True,
    )

    assert "errors" not in body, body
    responses = body["status"]["documentResponses"]
    assert body["status"] == {"documentResponses": responses}  # no insertedIds in this mode
    assert responses[0] == {"_id": "d1", "status": "OK"}
    assert responses[1]["status"] == "OK"
    assert uuid.UUID(responses[1]["_id"])  # a generated id
    assert responses[2] == {"_id": {"$uuid": str(uuid.UUID(int=7))}, "status": "OK"}


def test_an_ordered_insert_many_stops_at_the_first_failure_and_skips_the_rest(
    data_api: DataApiClient, orders: str
) -> None:
    body = _insert_many(
        data_api,
        orders,
        [{"_id": "d1"}, {"_id": "d1", "v": 2}, {"_id": "d2"}],
        ordered=True,
        returnDocumentResponses=True,
    )

    assert body["status"]["documentResponses"] == [
        {"_id": "d1", "status": "OK"},
        {"_id": "d1", "status": "ERROR", "errorsIdx": 0},
        {"_id": "d2", "status": "SKIPPED"},
    ]
    assert error_codes(body) == ["DOCUMENT_ALREADY_EXISTS"]
    assert body["errors"][0]["documentIds"] == ["d1"]
    assert data_api.run(orders, "countDocuments", {})["status"] == {"count": 1}


@pytest.mark.parametrize(("ordered", "third"), [(True, "SKIPPED"), (False, "OK")])
def test_a_document_that_cannot_be_stored_fails_alone_not_the_command(
    data_api: DataApiClient, orders: str, ordered: bool, third: str
) -> None:
    documents = [{"_id": "d1"}, {"_id": "d2", "$bad": 1}, {"_id": "d3"}]

    body = _insert_many(data_api, orders, documents, ordered=ordered, returnDocumentResponses=True)

    assert body["status"]["documentResponses"] == [
        {"_id": "d1", "status": "OK"},
        {"_id": "d2", "status": "ERROR", "errorsIdx": 0},
        {"_id": "d3", "status": third},
    ]
    assert error_codes(body) == ["SHRED_BAD_FIELD_NAME"]
    assert body["errors"][0]["documentIds"] == ["d2"]
    plain = _insert_many(data_api, orders, [{"_id": "d4"}, {"_id": "d5", "$bad": 1}])
    assert plain["status"] == {"insertedIds": ["d4"]}
    assert error_codes(plain) == ["SHRED_BAD_FIELD_NAME"]
    assert plain["errors"][0]["documentIds"] == ["d5"]


def test_insert_many_failures_each_get_an_error_in_input_order(data_api: DataApiClient, orders: str) -> None:
    data_api.run(orders, "insertOne", {"document": {"_id": "taken"}})
    documents: list[Any] = [{"_id": "taken"}, "not an object", {"_id": "new"}, {"_id": ["array"]}]

    body = _insert_many(data_api, orders, documents, returnDocumentResponses=True)

    assert body["status"]["documentResponses"] == [
        {"_id": "taken", "status": "ERROR", "errorsIdx": 0},
        {"status": "ERROR", "errorsIdx": 1},  # no usable _id: none is reported
        {"_id": "new", "status": "OK"},
        {"status": "ERROR", "errorsIdx": 2},
    ]
    assert error_codes(body) == ["DOCUMENT_ALREADY_EXISTS", "SHRED_BAD_DOCUMENT_TYPE", "SHRED_BAD_DOCID_TYPE"]
    assert [error.get("documentIds") for error in body["errors"]] == [["taken"], None, None]


def test_find_one_without_a_match_returns_null(data_api: DataApiClient, orders: str) -> None:
    body = data_api.run(orders, "findOne", {"filter": {"_id": "missing"}})

    assert body == {"data": {"document": None}}


def test_projection_keeps_or_drops_fields(data_api: DataApiClient, orders: str) -> None:
    _insert(data_api, orders, {"_id": "o1", "status": "NEW", "customer": {"name": "Ann", "email": "a@x"}})

    included = data_api.run(
        orders, "findOne", {"filter": {}, "projection": {"status": 1, "customer.name": 1}}
    )
    excluded = data_api.run(orders, "findOne", {"filter": {}, "projection": {"customer": 0, "_id": 0}})

    assert included["data"]["document"] == {"_id": "o1", "status": "NEW", "customer": {"name": "Ann"}}
    assert excluded["data"]["document"] == {"status": "NEW"}


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ({"document": [1, 2]}, "SHRED_BAD_DOCUMENT_TYPE"),
        ({"document": {"$weird": 1}}, "SHRED_BAD_FIELD_NAME"),
        ({"document": {"_id": [1]}}, "SHRED_BAD_DOCID_TYPE"),
        ({"document": {"deep": _nested(16)}}, "SHRED_DOC_LIMIT_VIOLATION"),
        ({}, "COMMAND_FIELD_VALUE_INVALID"),
        ({"document": {}, "extra": 1}, "COMMAND_FIELD_UNKNOWN"),
    ],
    ids=["array-root", "dollar-field", "array-id", "depth-17", "no-document", "unknown-field"],
)
def test_documents_breaking_the_rules_are_refused(
    data_api: DataApiClient, orders: str, document: dict[str, Any], code: str
) -> None:
    body = data_api.run(orders, "insertOne", document)

    assert error_codes(body) == [code]
    assert data_api.run(orders, "countDocuments", {"filter": {}}) == {"status": {"count": 0}}


def test_sixteen_levels_of_nesting_are_allowed(data_api: DataApiClient, orders: str) -> None:
    # The document itself is the first level.
    body = data_api.run(orders, "insertOne", {"document": {"_id": "deep", "a": _nested(15)}})

    assert body == {"status": {"insertedIds": ["deep"]}}


# Paging -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("page_size", "pages"), [(20, 3), (50, 1)])
def test_find_pages_visit_every_document_exactly_once(
    data_dir: Path, session: requests.Session, page_size: int, pages: int
) -> None:
    # Given 45 documents on a server with the given page size
    with _started(data_dir, data_api_page_size=page_size) as server:
        client = _client_with_orders(server, session)
        _insert(client, ORDERS, *({"_id": f"o{n:02d}", "n": n} for n in range(45)))

        # When every page is read
        first = client.run(ORDERS, "find", {"filter": {}})
        documents, page_count = client.find_all(ORDERS)

    # Then pages are full until the last, and each document came back once
    assert len(first["data"]["documents"]) == min(page_size, 45)
    assert page_count == pages
    assert sorted(document["_id"] for document in documents) == [f"o{n:02d}" for n in range(45)]


@pytest.mark.parametrize(("page_size", "limit", "sizes"), [(20, 30, [20, 10]), (50, 30, [30]), (20, 5, [5])])
def test_limit_caps_the_total_across_pages(
    data_dir: Path, session: requests.Session, page_size: int, limit: int, sizes: list[int]
) -> None:
    with _started(data_dir, data_api_page_size=page_size) as server:
        client = _client_with_orders(server, session)
        _insert(client, ORDERS, *({"_id": f"o{n:02d}"} for n in range(45)))
        seen: list[int] = []
        page_state = None
        while True:
            options: dict[str, Any] = {"limit": limit}
            if page_state:
                options["pageState"] = page_state
            data = client.run(ORDERS, "find", {"options": options})["data"]
            seen.append(len(data["documents"]))
            page_state = data["nextPageState"]
            if page_state is None:
                break

    assert seen == sizes


def test_paging_is_stable_while_others_insert(data_api: DataApiClient, orders: str) -> None:
    # Given 30 documents and a first page read
    _insert(data_api, orders, *({"_id": f"m{n:02d}"} for n in range(30)))
    first = data_api.run(orders, "find")["data"]

    # When documents are inserted before and after the cursor, then the rest is read
    _insert(data_api, orders, {"_id": "a-before"}, {"_id": "z-after"})
    rest, _ = data_api.find_all(orders)
    second = data_api.run(orders, "find", {"options": {"pageState": first["nextPageState"]}})["data"]

    # Then the remaining pages hold each original document once, and the new one after the cursor
    ids = [document["_id"] for document in first["documents"] + second["documents"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {f"m{n:02d}" for n in range(30)} | {"z-after"}
    assert len(rest) == 32


def test_a_page_state_the_server_did_not_issue_is_refused(data_api: DataApiClient, orders: str) -> None:
    body = data_api.run(orders, "find", {"options": {"pageState": "bm9wZQ"}})

    assert error_codes(body) == ["COMMAND_FIELD_VALUE_INVALID"]


def test_a_sorted_find_returns_one_sorted_page(data_api: DataApiClient, orders: str) -> None:
    _insert(data_api, orders, *({"_id": f"o{n}", "total": total} for n, total in enumerate([5, 50, 7, 1])))

    body = data_api.run(orders, "find", {"sort": {"total": -1}, "options": {"limit": 3}})

    assert [document["total"] for document in body["data"]["documents"]] == [50, 7, 5]
    assert body["data"]["nextPageState"] is None


# Filters ----------------------------------------------------------------------------------------

PEOPLE = [
    {"_id": "ann", "name": "Ann", "age": 31, "city": "Oslo", "vip": True, "address": {"zip": "0150"}},
    {"_id": "bob", "name": "Bob", "age": 45, "city": "Bergen", "vip": False, "tags": ["x", "y"]},
    {"_id": "cid", "name": "Cid", "age": 27, "city": "Oslo", "tags": ["y"]},
    {"_id": "dee", "name": "Dee", "age": 45.5, "city": "Tromsø", "address": {"zip": "9008"}},
]


@pytest.fixture
def people(data_api: DataApiClient, orders: str) -> str:
    _insert(data_api, orders, *PEOPLE)
    return orders


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"city": "Oslo"}, {"ann", "cid"}),
        ({"city": {"$eq": "Oslo"}}, {"ann", "cid"}),
        ({"city": {"$ne": "Oslo"}}, {"bob", "dee"}),
        ({"city": {"$in": ["Bergen", "Tromsø"]}}, {"bob", "dee"}),
        ({"city": {"$nin": ["Bergen", "Tromsø"]}}, {"ann", "cid"}),
        ({"_id": {"$in": ["ann", "dee", "nobody"]}}, {"ann", "dee"}),
        ({"age": {"$gt": 31}}, {"bob", "dee"}),
        ({"age": {"$gte": 31}}, {"ann", "bob", "dee"}),
        ({"age": {"$lt": 31}}, {"cid"}),
        ({"age": {"$lte": 31, "$gt": 27}}, {"ann"}),
        ({"age": 45}, {"bob"}),
        ({"age": "45"}, set()),
        ({"vip": {"$exists": True}}, {"ann", "bob"}),
        ({"vip": {"$exists": False}}, {"cid", "dee"}),
        ({"vip": True}, {"ann"}),
        ({"address.zip": "9008"}, {"dee"}),
        ({"tags": "y"}, {"bob", "cid"}),
        ({"tags": ["y"]}, {"cid"}),
        ({"tags": {"$size": 2}}, {"bob"}),
        ({"tags": {"$all": ["x", "y"]}}, {"bob"}),
        ({"city": "Oslo", "age": {"$gt": 30}}, {"ann"}),
        ({"$and": [{"city": "Oslo"}, {"age": {"$lt": 30}}]}, {"cid"}),
        ({"$or": [{"name": "Ann"}, {"age": {"$gte": 45}}]}, {"ann", "bob", "dee"}),
        ({"$not": {"city": "Oslo"}}, {"bob", "dee"}),
        ({}, {"ann", "bob", "cid", "dee"}),
    ],
)
def test_filters_select_matching_documents(
    data_api: DataApiClient, people: str, filter_: dict[str, Any], expected: set[str]
) -> None:
    body = data_api.run(people, "find", {"filter": filter_})
    count = data_api.run(people, "countDocuments", {"filter": filter_})

    assert {document["_id"] for document in body["data"]["documents"]} == expected
    assert count == {"status": {"count": len(expected)}}


@pytest.mark.parametrize(
    ("filter_", "code"),
    [
        ({"name": {"$regex": "^A"}}, "FILTER_UNSUPPORTED_OPERATOR"),
        ({"$nor": [{"name": "Ann"}]}, "FILTER_UNSUPPORTED_OPERATOR"),
        ({"tags": {"$elemMatch": {"$eq": "x"}}}, "FILTER_UNSUPPORTED_OPERATOR"),
        ({"city": {"$in": "Oslo"}}, "FILTER_INVALID_EXPRESSION"),
        ({"$or": {"city": "Oslo"}}, "FILTER_INVALID_EXPRESSION"),
        ({"vip": {"$exists": 1}}, "FILTER_INVALID_EXPRESSION"),
        ({"age": {"$gt": 1, "name": 2}}, "FILTER_INVALID_EXPRESSION"),
        ({"a..b": 1}, "FILTER_INVALID_EXPRESSION"),
    ],
)
def test_bad_filters_are_200_with_a_filter_error(
    data_api: DataApiClient, people: str, filter_: dict[str, Any], code: str
) -> None:
    body = data_api.run(people, "find", {"filter": filter_})

    assert error_codes(body) == [code]
    assert body["errors"][0]["scope"] == "FILTER"


def test_a_filter_that_is_not_an_object_is_invalid(data_api: DataApiClient, people: str) -> None:
    assert error_codes(data_api.run(people, "findOne", {"filter": ["ann"]})) == ["FILTER_INVALID_EXPRESSION"]


# Error names ------------------------------------------------------------------------------------

CURRENT_AND_LEGACY = {
    "missing collection": ("UNKNOWN_COLLECTION_OR_TABLE", "COLLECTION_NOT_EXIST"),
    "missing keyspace": ("UNKNOWN_KEYSPACE", "KEYSPACE_DOES_NOT_EXIST"),
    "bad filter": ("FILTER_INVALID_EXPRESSION", "INVALID_FILTER_EXPRESSION"),
    "unsupported operator": ("FILTER_UNSUPPORTED_OPERATOR", "UNSUPPORTED_FILTER_OPERATION"),
    "bad field": ("COMMAND_FIELD_VALUE_INVALID", "COMMAND_FIELD_INVALID"),
    "unknown command": ("COMMAND_UNKNOWN", "NO_COMMAND_MATCHED"),
    "duplicate": ("DOCUMENT_ALREADY_EXISTS", "DOCUMENT_ALREADY_EXISTS"),
}


@pytest.mark.parametrize(("names", "position"), [("current", 0), ("legacy", 1)])
def test_error_codes_follow_the_naming_setting(
    data_dir: Path, session: requests.Session, names: str, position: int
) -> None:
    with _started(data_dir, data_api_error_names=names) as server:
        client = _client_with_orders(server, session)
        client.run(ORDERS, "insertOne", {"document": {"_id": "o1"}})
        calls = {
            "missing collection": (f"/{KEYSPACE}/nope", "findOne", {"filter": {}}),
            "missing keyspace": ("/nope/orders", "findOne", {"filter": {}}),
            "bad filter": (ORDERS, "find", {"filter": {"a": {"$in": 1}}}),
            "unsupported operator": (ORDERS, "find", {"filter": {"a": {"$regex": "x"}}}),
            "bad field": (ORDERS, "find", {"options": {"limit": "ten"}}),
            "unknown command": (ORDERS, "frobnicate", {}),
            "duplicate": (ORDERS, "insertOne", {"document": {"_id": "o1"}}),
        }
        seen = {case: error_codes(client.run(*call)) for case, call in calls.items()}

    assert seen == {case: [pair[position]] for case, pair in CURRENT_AND_LEGACY.items()}


def test_a_missing_keyspace_is_reported_at_the_keyspace_level_too(data_api: DataApiClient) -> None:
    assert error_codes(data_api.run("/nope", "findCollections")) == ["UNKNOWN_KEYSPACE"]


def test_commands_of_another_level_are_unknown(data_api: DataApiClient, orders: str) -> None:
    assert error_codes(data_api.run(f"/{KEYSPACE}", "insertOne", {"document": {}})) == ["COMMAND_UNKNOWN"]
    assert error_codes(data_api.run(orders, "createCollection", {"name": "x"})) == ["COMMAND_UNKNOWN"]


# Updates and deletes ----------------------------------------------------------------------------


def test_update_one_is_a_compare_and_set(data_api: DataApiClient, orders: str) -> None:
    _insert(data_api, orders, {"_id": "o1", "status": "PENDING"})
    change = {"filter": {"_id": "o1", "status": "PENDING"}, "update": {"$set": {"status": "PAID"}}}

    first = data_api.run(orders, "updateOne", change)
    second = data_api.run(orders, "updateOne", change)

    assert first == {"status": {"matchedCount": 1, "modifiedCount": 1}}
    assert second == {"status": {"matchedCount": 0, "modifiedCount": 0}}
    assert data_api.run(orders, "findOne", {"filter": {"_id": "o1"}})["data"]["document"]["status"] == "PAID"


def test_an_update_that_changes_nothing_matches_without_modifying(
    data_api: DataApiClient, orders: str
) -> None:
    _insert(data_api, orders, {"_id": "o1", "status": "PAID"})

    body = data_api.run(
        orders, "updateOne", {"filter": {"_id": "o1"}, "update": {"$set": {"status": "PAID"}}}
    )

    assert body == {"status": {"matchedCount": 1, "modifiedCount": 0}}


def test_update_operators_change_the_document(data_api: DataApiClient, orders: str) -> None:
    _insert(data_api, orders, {"_id": "o1", "n": 2**62, "gone": 1, "tags": ["a"], "low": 5})

    body = data_api.run(
        orders,
        "findOneAndUpdate",
        {
            "filter": {"_id": "o1"},
            "update": {
                "$set": {"address.city": "Oslo"},
                "$unset": {"gone": ""},
                "$inc": {"n": 1},
                "$push": {"tags": "b"},
                "$addToSet": {"tags2": {"$each": ["x", "x"]}},
                "$min": {"low": 3},
                "$setOnInsert": {"created": True},
            },
            "options": {"returnDocument": "after"},
        },
    )

    assert body["data"]["document"] == {
        "_id": "o1",
        "n": 2**62 + 1,
        "tags": ["a", "b"],
        "low": 3,
        "address": {"city": "Oslo"},
        "tags2": ["x"],
    }
    assert body["status"] == {"matchedCount": 1, "modifiedCount": 1}


def test_the_array_rename_and_date_operators_change_the_document(
    data_api: DataApiClient, orders: str
) -> None:
    # No client of this project sends these; they stay because `make stargate` is a local Astra for any
    # Data API client, and the coverage table lists them as emulated.
    _insert(
        data_api,
        orders,
        {"_id": "o1", "last": [1, 2, 3], "first": [1, 2, 3], "tags": ["a", "b", "a"], "old": 7},
    )

    body = data_api.run(
        orders,
        "findOneAndUpdate",
        {
            "filter": {"_id": "o1"},
            "update": {
                "$pop": {"last": 1, "first": -1},
                "$pullAll": {"tags": ["a"]},
                "$rename": {"old": "new"},
                "$currentDate": {"seen": True},
            },
            "options": {"returnDocument": "after"},
        },
    )

    document = body["data"]["document"]
    seen = document.pop("seen")
    assert document == {"_id": "o1", "last": [1, 2], "first": [2, 3], "tags": ["b"], "new": 7}
    assert set(seen) == {"$date"}
    assert isinstance(seen["$date"], int)


@pytest.mark.parametrize(
    ("update", "code"),
    [
        ({"status": "PAID"}, "UNSUPPORTED_UPDATE_OPERATION"),
        ({}, "UNSUPPORTED_UPDATE_OPERATION"),
        ({"$set": {"_id": "other"}}, "UNSUPPORTED_UPDATE_OPERATOR_FOR_DOC_ID"),
        ({"$set": {"a": 1}, "$unset": {"a": 1}}, "UNSUPPORTED_UPDATE_OPERATION_PATH"),
        ({"$inc": {"a": "1"}}, "UNSUPPORTED_UPDATE_OPERATION_PARAM"),
        ({"$inc": {"status": 1}}, "UNSUPPORTED_UPDATE_OPERATION_TARGET"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(
    data_api: DataApiClient, orders: str, update: dict[str, Any], code: str
) -> None:
    _insert(data_api, orders, {"_id": "o1", "status": "PENDING"})

    body = data_api.run(orders, "updateOne", {"filter": {"_id": "o1"}, "update": update})

    assert error_codes(body) == [code]
    found = data_api.run(orders, "findOne", {"filter": {"_id": "o1"}})["data"]["document"]
    assert found == {"_id": "o1", "status": "PENDING"}


def test_update_one_upserts_from_the_filter_and_set_on_insert(data_api: DataApiClient, orders: str) -> None:
    change = {
        "filter": {"_id": "o9", "customer": "c1"},
        "update": {"$set": {"status": "NEW"}, "$setOnInsert": {"createdAt": {"$date": 1_700_000_000_000}}},
        "options": {"upsert": True},
    }

    created = data_api.run(orders, "updateOne", change)
    again = data_api.run(orders, "updateOne", change)

    assert created == {"status": {"matchedCount": 0, "modifiedCount": 0, "upsertedId": "o9"}}
    assert again == {"status": {"matchedCount": 1, "modifiedCount": 0}}
    found = data_api.run(orders, "findOne", {"filter": {"_id": "o9"}})["data"]["document"]
    assert found == {
        "_id": "o9",
        "customer": "c1",
        "status": "NEW",
        "createdAt": {"$date": 1_700_000_000_000},
    }


def test_find_one_and_update_returns_before_by_default_and_after_on_request(
    data_api: DataApiClient, orders: str
) -> None:
    _insert(data_api, orders, {"_id": "o1", "status": "PENDING", "version": 1})

    before = data_api.run(
        orders,
        "findOneAndUpdate",
        {
            "filter": {"_id": "o1", "status": "PENDING"},
            "update": {"$set": {"status": "PAID"}, "$inc": {"version": 1}},
        },
    )
    after = data_api.run(
        orders,
        "findOneAndUpdate",
        {
            "filter": {"_id": "o1", "status": "PAID"},
            "update": {"$set": {"status": "SHIPPED"}, "$inc": {"version": 1}},
            "projection": {"status": 1, "version": 1},
            "options": {"returnDocument": "after"},
        },
    )
    lost = data_api.run(
        orders,
        "findOneAndUpdate",
        {
            "filter": {"_id": "o1", "status": "PAID"},
            "update": {"$set": {"status": "X"}},
            "options": {"returnDocument": "after"},
        },
    )

    assert before == {
        "data": {"document": {"_id": "o1", "status": "PENDING", "version": 1}},
        "status": {"matchedCount": 1, "modifiedCount": 1},
    }
    assert after["data"]["document"] == {"_id": "o1", "status": "SHIPPED", "version": 3}
    assert lost == {"data": {"document": None}, "status": {"matchedCount": 0, "modifiedCount": 0}}


def test_delete_one_counts_what_it_deleted(data_api: DataApiClient, orders: str) -> None:
    _insert(data_api, orders, {"_id": "o1", "status": "CANCELLED"}, {"_id": "o2", "status": "PAID"})

    first = data_api.run(orders, "deleteOne", {"filter": {"_id": "o1", "status": "CANCELLED"}})
    again = data_api.run(orders, "deleteOne", {"filter": {"_id": "o1"}})
    precondition_fails = data_api.run(orders, "deleteOne", {"filter": {"_id": "o2", "status": "CANCELLED"}})

    assert first == {"status": {"deletedCount": 1}}
    assert again == precondition_fails == {"status": {"deletedCount": 0}}
    assert data_api.run(orders, "countDocuments", {"filter": {}}) == {"status": {"count": 1}}


def test_delete_many_with_a_filter_and_find_one_and_delete(data_api: DataApiClient, orders: str) -> None:
    _insert(data_api, orders, *({"_id": f"o{n}", "even": n % 2 == 0} for n in range(6)))

    deleted = data_api.run(orders, "deleteMany", {"filter": {"even": True}})
    taken = data_api.run(orders, "findOneAndDelete", {"filter": {"_id": "o1"}})

    assert deleted == {"status": {"deletedCount": 3}}
    assert taken == {"data": {"document": {"_id": "o1", "even": False}}, "status": {"deletedCount": 1}}
    assert data_api.run(orders, "countDocuments", {"filter": {}}) == {"status": {"count": 2}}


def test_count_documents_stops_at_1000_with_more_data(data_api: DataApiClient, orders: str) -> None:
    for batch in range(11):
        _insert(data_api, orders, *({"_id": f"o{batch:02d}-{n:03d}", "b": batch} for n in range(100)))

    everything = data_api.run(orders, "countDocuments", {"filter": {}})
    filtered = data_api.run(orders, "countDocuments", {"filter": {"b": {"$lt": 3}}})

    assert everything == {"status": {"count": 1000, "moreData": True}}
    assert filtered == {"status": {"count": 300}}


# Concurrency and persistence --------------------------------------------------------------------


def test_concurrent_compare_and_set_updates_let_exactly_one_win(
    stargate: RunningServer, data_api: DataApiClient, orders: str
) -> None:
    # Given one PENDING order and 10 clients that each try to move it to their own PAID state
    _insert(data_api, orders, {"_id": "o1", "status": "PENDING"})
    results: dict[int, dict[str, Any]] = {}
    start = threading.Barrier(10)

    def pay(worker: int) -> None:
        with requests.Session() as session:
            own = DataApiClient(stargate.url, session, data_api.token)
            start.wait()
            results[worker] = own.run(
                orders,
                "updateOne",
                {
                    "filter": {"_id": "o1", "status": "PENDING"},
                    "update": {"$set": {"status": f"PAID_{worker}"}},
                },
            )

    threads = [threading.Thread(target=pay, args=(worker,)) for worker in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly one matched, and the document holds its state
    winners = [worker for worker, body in results.items() if body["status"]["matchedCount"] == 1]
    assert len(results) == 10
    assert len(winners) == 1
    found = data_api.run(orders, "findOne", {"filter": {"_id": "o1"}})["data"]["document"]
    assert found["status"] == f"PAID_{winners[0]}"


def test_data_api_documents_survive_a_restart(data_dir: Path) -> None:
    with _started(data_dir) as first, requests.Session() as session:
        client = _client_with_orders(first, session)
        client.run(ORDERS, "insertOne", {"document": {"_id": "kept", "total": 10**20}})

    with _started(data_dir) as second, requests.Session() as session:
        client = DataApiClient(second.url, session, FIXED_TOKEN)
        found = client.run(ORDERS, "findOne", {"filter": {"_id": "kept"}})
        collections = client.run(f"/{KEYSPACE}", "findCollections")

    assert found == {"data": {"document": {"_id": "kept", "total": 10**20}}}
    assert collections == {"status": {"collections": ["orders"]}}


# Settings and roles -----------------------------------------------------------------------------


def test_the_command_line_accepts_the_data_api_settings() -> None:
    args = parse_args(["--data-api-page-size", "50", "--data-api-error-names", "legacy"])

    assert (args.data_api_page_size, args.data_api_error_names) == (50, "legacy")
    assert parse_args([]).data_api_page_size == 20


@pytest.mark.parametrize("settings", [{"data_api_page_size": 0}, {"data_api_error_names": "old"}])
def test_invalid_settings_are_refused_at_start(tmp_path: Path, settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="data_api_"):
        start_in_thread(port=0, data_dir=tmp_path, **settings)


def test_the_data_api_can_be_served_on_its_own_port(tmp_path: Path) -> None:
    backend = open_backend(tmp_path, token=FIXED_TOKEN)
    data = start_in_thread(port=0, roles={Role.DATA_API}, backend=backend)
    docs = start_in_thread(port=0, roles={Role.DOCUMENTS}, backend=backend)
    try:
        with requests.Session() as session:
            client = DataApiClient(data.url, session, FIXED_TOKEN)
            on_data_port = client.run("", "createKeyspace", {"name": "ks"})
            on_docs_port = DataApiClient(docs.url, session, FIXED_TOKEN).post("", {"findKeyspaces": {}})
            docs_sees_it = DocsClient(docs.url, session, FIXED_TOKEN).get("/v2/schemas/namespaces/ks")
    finally:
        for server in (data, docs):
            server.stop()
        backend.close()

    assert on_data_port == {"status": {"ok": 1}}
    assert on_docs_port.status_code == 404
    assert docs_sees_it.status_code == 200
