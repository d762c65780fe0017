"""What ``createCollection``'s options change in the embedded Data API: ``defaultId``, ``indexing``,
``vector`` (vector sorts and their scores), features refused as a database without them refuses them;
and what is served besides: numbers a double cannot hold, ``/v1`` at the root, the listings astrapy asks
a fresh database for, and a settable latency."""

from __future__ import annotations

import base64
import math
import struct
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.stargate import RunningServer, start_in_thread
from localdev.stargate.__main__ import parse_args

from .data_client import DataApiClient, error_codes

KEYSPACE = "/options_test"


@pytest.fixture
def data_api(stargate: RunningServer, session: requests.Session, token: str) -> DataApiClient:
    client = DataApiClient(stargate.url, session, token)
    assert client.run("", "createKeyspace", {"name": KEYSPACE[1:]}) == {"status": {"ok": 1}}
    return client


def _create(client: DataApiClient, name: str, **options: Any) -> str:
    body = client.run(KEYSPACE, "createCollection", {"name": name, "options": options})
    assert body == {"status": {"ok": 1}}, body
    return f"{KEYSPACE}/{name}"


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return body


# defaultId ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "version"), [("uuid", 4), ("uuidv6", 6), ("uuidv7", 7)])
def test_default_id_uuids_are_extended_values_of_their_version(
    data_api: DataApiClient, kind: str, version: int
) -> None:
    path = _create(data_api, f"ids_{kind}", defaultId={"type": kind})

    ids = [
        _ok(data_api.run(path, "insertOne", {"document": {"n": n}}))["status"]["insertedIds"][0]
        for n in (1, 2)
    ]
    found = _ok(data_api.run(path, "findOne", {"filter": {"_id": ids[0]}}))["data"]["document"]

    assert all(set(doc_id) == {"$uuid"} and uuid.UUID(doc_id["$uuid"]).version == version for doc_id in ids)
    assert found == {"_id": ids[0], "n": 1}
    if kind != "uuid":  # time-ordered: a later id sorts after an earlier one
        assert ids[0]["$uuid"] < ids[1]["$uuid"]


def test_default_id_object_ids_and_the_default_uuid_strings(data_api: DataApiClient) -> None:
    object_ids = _create(data_api, "ids_object", defaultId={"type": "objectId"})
    plain = _create(data_api, "ids_plain")

    object_id = _ok(data_api.run(object_ids, "insertOne", {"document": {}}))["status"]["insertedIds"][0]
    plain_id = _ok(data_api.run(plain, "insertOne", {"document": {}}))["status"]["insertedIds"][0]

    assert set(object_id) == {"$objectId"}
    assert len(object_id["$objectId"]) == 24
    assert int(object_id["$objectId"][:8], 16) == pytest.approx(time.time(), abs=60)
    assert uuid.UUID(plain_id).version == 4


def test_options_are_echoed_and_a_second_create_must_match_them(data_api: DataApiClient) -> None:
    options = {
        "vector": {"dimension": 3, "metric": "dot_product"},
        "indexing": {"deny": ["notes"]},
        "defaultId": {"type": "uuidv7"},
    }
    _create(data_api, "echoed", **options)

    listed = data_api.run(KEYSPACE, "findCollections", {"options": {"explain": True}})["status"][
        "collections"
    ]
    again = data_api.run(KEYSPACE, "createCollection", {"name": "echoed", "options": options})
    other = data_api.run(
        KEYSPACE, "createCollection", {"name": "echoed", "options": {"indexing": {"deny": ["x"]}}}
    )

    assert listed == [
        {
            "name": "echoed",
            "options": {
                "vector": {"dimension": 3, "metric": "dot_product", "sourceModel": "other"},
                "indexing": {"deny": ["notes"]},
                "defaultId": {"type": "uuidv7"},
                "lexical": {"enabled": False},
                "rerank": {"enabled": False},
            },
        }
    ]
    assert again == {"status": {"ok": 1}}
    assert error_codes(other) == ["EXISTING_COLLECTION_DIFFERENT_SETTINGS"]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"defaultId": {"type": "uuidv9"}}, "INVALID_CREATE_COLLECTION_OPTIONS"),
        ({"indexing": {"allow": ["a"], "deny": ["b"]}}, "INVALID_INDEXING_DEFINITION"),
        ({"indexing": {"deny": "a"}}, "INVALID_INDEXING_DEFINITION"),
        ({"vector": {"dimension": 0}}, "INVALID_CREATE_COLLECTION_OPTIONS"),
        ({"vector": {"dimension": 2, "metric": "manhattan"}}, "UNKNOWN_VECTOR_METRIC"),
        ({"vector": {"dimension": 2, "service": {"provider": "openai"}}}, "VECTORIZE_FEATURE_NOT_AVAILABLE"),
        ({"lexical": {"enabled": True, "analyzer": "standard"}}, "LEXICAL_FEATURE_NOT_ENABLED"),
        ({"rerank": {"enabled": True}}, "RERANKING_FEATURE_NOT_ENABLED"),
    ],
)
def test_options_the_data_api_refuses_are_refused_with_its_codes(
    data_api: DataApiClient, options: dict[str, Any], code: str
) -> None:
    body = data_api.run(KEYSPACE, "createCollection", {"name": "refused", "options": options})

    assert error_codes(body) == [code]
    assert data_api.run(KEYSPACE, "findCollections")["status"]["collections"] == []


def test_lexical_and_rerank_turned_off_are_accepted(data_api: DataApiClient) -> None:
    _create(data_api, "plain", lexical={"enabled": False}, rerank={"enabled": False})


# indexing -------------------------------------------------------------------------------------------


def test_filters_and_sorts_on_paths_that_are_not_indexed_are_refused(data_api: DataApiClient) -> None:
    denied = _create(data_api, "denied", indexing={"deny": ["notes", "meta.secret"]})
    allowed = _create(data_api, "allowed", indexing={"allow": ["name"]})
    for path in (denied, allowed):
        _ok(data_api.run(path, "insertOne", {"document": {"name": "a", "notes": "n", "meta": {"secret": 1}}}))

    assert error_codes(data_api.run(denied, "find", {"filter": {"notes": "n"}})) == ["FILTER_PATH_UNINDEXED"]
    assert error_codes(data_api.run(denied, "find", {"filter": {"meta.secret": 1}})) == [
        "FILTER_PATH_UNINDEXED"
    ]
    assert error_codes(data_api.run(denied, "find", {"sort": {"notes": 1}})) == ["SORT_CLAUSE_PATH_UNINDEXED"]
    assert error_codes(data_api.run(allowed, "deleteMany", {"filter": {"notes": "n"}})) == [
        "FILTER_PATH_UNINDEXED"
    ]
    # What is indexed still works, and the whole document is stored and returned
    assert _ok(data_api.run(denied, "findOne", {"filter": {"name": "a"}}))["data"]["document"]["notes"] == "n"
    assert _ok(data_api.run(allowed, "findOne", {"filter": {"name": "a"}}))["data"]["document"]["meta"] == {
        "secret": 1
    }


# vector ---------------------------------------------------------------------------------------------


def _binary(vector: list[float]) -> dict[str, str]:
    return {"$binary": base64.b64encode(struct.pack(f">{len(vector)}f", *vector)).decode()}


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        # The Data API's scores against [1.2, 1.6]: (1 + cos) / 2, (1 + dot) / 2, 1 / (1 + squared distance)
        ("cosine", {"a": 1.0, "b": (1 + 0.96) / 2, "c": 0.5}),
        ("dot_product", {"a": (1 + 2.0) / 2, "b": (1 + 1.92) / 2, "c": 0.5}),
        ("euclidean", {"a": 1 / (1 + 1.0), "b": 1 / (1 + 1.16), "c": 1 / (1 + 5.0)}),
    ],
)
def test_a_vector_sort_ranks_by_the_metrics_similarity(
    data_api: DataApiClient, metric: str, expected: dict[str, float]
) -> None:
    path = _create(data_api, f"vectors_{metric}", vector={"dimension": 2, "metric": metric})
    _ok(
        data_api.run(
            path,
            "insertMany",
            {
                "documents": [
                    {"_id": "a", "$vector": [0.6, 0.8]},
                    {"_id": "b", "$vector": _binary([0.8, 0.6])},
                    {"_id": "c", "$vector": [-0.8, 0.6]},
                    {"_id": "none"},
                ]
            },
        )
    )

    body = _ok(
        data_api.run(
            path,
            "find",
            {
                "sort": {"$vector": [1.2, 1.6]},
                "options": {"includeSimilarity": True, "includeSortVector": True},
            },
        )
    )
    scores = {doc["_id"]: doc["$similarity"] for doc in body["data"]["documents"]}

    assert list(scores) == sorted(expected, key=lambda key: -expected[key])  # no vector: not listed
    assert scores == pytest.approx(expected, abs=1e-6)
    assert body["status"]["sortVector"] == [1.2, 1.6]
    assert all("$vector" not in doc for doc in body["data"]["documents"])  # only when projected


def test_vectors_come_back_as_written_when_projected_and_are_checked_against_the_dimension(
    data_api: DataApiClient,
) -> None:
    path = _create(data_api, "vectors", vector={"dimension": 2})
    written = _binary([0.25, -1.5])
    _ok(
        data_api.run(
            path,
            "insertMany",
            {"documents": [{"_id": 1, "$vector": written, "x": 1}, {"_id": 2, "$vector": None}]},
        )
    )

    found = data_api.run(path, "find", {"projection": {"$vector": 1}, "sort": {"_id": 1}})["data"][
        "documents"
    ]
    only_x = data_api.run(path, "findOne", {"filter": {"_id": 1}, "projection": {"x": 1}})["data"]["document"]

    assert found == [{"_id": 1, "$vector": written, "x": 1}, {"_id": 2, "$vector": None}]
    assert only_x == {"_id": 1, "x": 1}
    assert error_codes(data_api.run(path, "insertOne", {"document": {"$vector": [1, 2, 3]}})) == [
        "INVALID_VECTOR_LENGTH"
    ]
    assert error_codes(data_api.run(path, "insertOne", {"document": {"$vector": []}})) == [
        "SHRED_BAD_VECTOR_SIZE"
    ]
    assert error_codes(data_api.run(path, "insertOne", {"document": {"$vector": [1, "2"]}})) == [
        "SHRED_BAD_VECTOR_VALUE"
    ]
    assert error_codes(data_api.run(path, "find", {"sort": {"$vector": [1, 2, 3]}})) == [
        "INVALID_VECTOR_LENGTH"
    ]
    # $set replaces a vector, checked the same way
    _ok(data_api.run(path, "updateOne", {"filter": {"_id": 2}, "update": {"$set": {"$vector": [1, 0]}}}))
    assert error_codes(
        data_api.run(path, "updateOne", {"filter": {"_id": 2}, "update": {"$set": {"$vector": [1]}}})
    ) == ["INVALID_VECTOR_LENGTH"]


def test_vector_sorts_page_up_to_their_limit_and_pick_the_nearest_for_single_document_commands(
    data_api: DataApiClient,
) -> None:
    path = _create(data_api, "many_vectors", vector={"dimension": 2, "metric": "euclidean"})
    _ok(data_api.run(path, "insertMany", {"documents": [{"_id": n, "$vector": [n, 0]} for n in range(45)]}))

    ids, pages = data_api.find_all(
        path, {"sort": {"$vector": [0, 0]}, "projection": {"_id": 1}, "options": {"limit": 42}}
    )
    nearest = data_api.run(path, "findOneAndDelete", {"sort": {"$vector": [30.2, 0]}})["data"]["document"]

    assert [doc["_id"] for doc in ids] == list(range(42))
    assert pages == 3  # 20 + 20 + 2, as the Data API pages a vector search
    assert nearest["_id"] == 30
    assert error_codes(
        data_api.run(path, "find", {"sort": {"$vector": [0, 0]}, "options": {"limit": 1001}})
    ) == ["COMMAND_FIELD_VALUE_INVALID"]
    assert error_codes(data_api.run(path, "find", {"sort": {"$vector": [0, 0]}, "options": {"skip": 1}})) == [
        "COMMAND_FIELD_VALUE_INVALID"
    ]


def test_vectors_need_a_vector_collection_and_vectorize_and_lexical_are_refused(
    data_api: DataApiClient,
) -> None:
    path = _create(data_api, "no_vectors")

    assert error_codes(data_api.run(path, "insertOne", {"document": {"$vector": [1, 2]}})) == [
        "VECTOR_SEARCH_NOT_SUPPORTED"
    ]
    assert error_codes(data_api.run(path, "find", {"sort": {"$vector": [1, 2]}})) == [
        "VECTOR_SEARCH_NOT_SUPPORTED"
    ]
    assert error_codes(data_api.run(path, "insertOne", {"document": {"$vectorize": "tea"}})) == [
        "VECTORIZE_FEATURE_NOT_AVAILABLE"
    ]
    assert error_codes(data_api.run(path, "find", {"sort": {"$lexical": "tea"}})) == [
        "LEXICAL_NOT_ENABLED_FOR_COLLECTION"
    ]
    assert error_codes(data_api.run(path, "findOne", {"sort": {"$hybrid": "tea"}})) == [
        "LEXICAL_NOT_ENABLED_FOR_COLLECTION"
    ]


# Numbers, paths, listings, latency ------------------------------------------------------------------


def test_numbers_keep_the_digits_a_double_cannot_hold(
    stargate: RunningServer, session: requests.Session, token: str, data_api: DataApiClient
) -> None:
    path = _create(data_api, "numbers")
    precise = "1.229999999999999982236431605997495353221893310546875"
    body = f'{{"insertOne":{{"document":{{"_id":"d","p":{precise},"f":1.23,"n":[0.1]}}}}}}'
    response = data_api.post(path, None, data=body, headers={"Content-Type": "application/json"})
    assert error_codes(response.json()) == []

    raw = data_api.post(path, {"findOne": {"filter": {"p": {"$gt": 1.2299}}}}).text
    incremented = _ok(
        data_api.run(
            path,
            "findOneAndUpdate",
            {"filter": {"_id": "d"}, "update": {"$inc": {"f": 1}}, "options": {"returnDocument": "after"}},
        )
    )

    assert f'"p":{precise}' in raw
    assert '"f":1.23' in raw
    assert incremented["data"]["document"]["f"] == 2.23
    assert math.isclose(float(Decimal(precise)), 1.23)


def test_the_data_api_is_also_served_at_v1_where_a_self_hosted_one_is(
    stargate: RunningServer, session: requests.Session, token: str, data_api: DataApiClient
) -> None:
    _create(data_api, "at_root")

    response = session.post(
        f"{stargate.url}/v1{KEYSPACE}", json={"findCollections": {}}, headers={"Token": token}, timeout=10
    )
    auth = session.post(
        f"{stargate.url}/v1/auth", json={"username": "cassandra", "password": "cassandra"}, timeout=10
    )

    assert response.json() == {"status": {"collections": ["at_root"]}}
    assert auth.status_code == 201  # /v1/auth is still Stargate's token endpoint


def test_a_fresh_database_lists_no_tables_types_or_providers(data_api: DataApiClient) -> None:
    assert data_api.run(KEYSPACE, "listTables") == {"status": {"tables": []}}
    assert data_api.run(KEYSPACE, "listTypes", {"options": {"explain": True}}) == {"status": {"types": []}}
    assert data_api.run("", "findEmbeddingProviders") == {"status": {"embeddingProviders": {}}}
    assert data_api.run("", "findRerankingProviders") == {"status": {"rerankingProviders": {}}}
    assert error_codes(data_api.run(KEYSPACE, "createTable", {"name": "t"})) == ["COMMAND_UNKNOWN"]


def test_a_latency_delays_every_data_api_answer(tmp_path: Path, session: requests.Session) -> None:
    server = start_in_thread(port=0, data_dir=tmp_path, token="t", data_api_latency_ms=150)
    try:
        started = time.monotonic()
        DataApiClient(server.url, session, "t").run("", "findKeyspaces")
        elapsed = time.monotonic() - started
    finally:
        server.stop()

    assert elapsed >= 0.15
    assert parse_args(["--data-api-latency-ms", "20"]).data_api_latency_ms == 20
    with pytest.raises(SystemExit):
        parse_args(["--data-api-latency-ms", "-1"])


def _raw(client: DataApiClient, path: str, body: str) -> dict[str, Any]:
    response = client.post(path, None, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_arithmetic_is_exact_and_never_leaves_a_number_json_cannot_write(data_api: DataApiClient) -> None:
    path = _create(data_api, "arithmetic")
    _raw(data_api, path, '{"insertOne":{"document":{"_id":1,"d":1.00000000000000000001,"f":1e300,"i":7}}}')

    for update in (
        {"$mul": {"d": 1e200}},
        {"$mul": {"d": 1e200}},
        {"$mul": {"f": 1e300}},
        {"$inc": {"i": 0.5}},
    ):
        _ok(data_api.run(path, "updateOne", {"filter": {"_id": 1}, "update": update}))
    _raw(data_api, path, '{"updateOne":{"filter":{"_id":1},"update":{"$inc":{"i":0.50000000000000000001}}}}')
    raw = data_api.post(path, {"findOne": {"filter": {"_id": 1}}}).text

    # 1.00000000000000000001e400 and 1e600 are beyond a double, as the Data API's BigDecimal allows
    assert '"d":1.00000000000000000001E+400' in raw
    assert '"f":1E+600' in raw
    assert '"i":8.00000000000000000001' in raw
    assert _ok(data_api.run(path, "countDocuments", {"filter": {"d": {"$gt": 0}}}))["status"]["count"] == 1


def test_numbers_no_double_or_decimal_can_hold_and_decimal_ids_are_answered_not_crashed_on(
    data_api: DataApiClient,
) -> None:
    path = _create(data_api, "odd_numbers")

    tiny = _raw(data_api, path, '{"insertOne":{"document":{"_id":"t","a":1e-9999999999999999999}}}')
    first = _raw(data_api, path, '{"insertOne":{"document":{"_id":100000000000000000001.0}}}')
    same = _raw(data_api, path, '{"insertOne":{"document":{"_id":100000000000000000001}}}')
    decimal = _raw(data_api, path, '{"insertOne":{"document":{"_id":0.10000000000000000001}}}')
    again = _raw(data_api, path, '{"insertOne":{"document":{"_id":0.100000000000000000010}}}')

    assert error_codes(tiny) == []
    assert error_codes(first) == []
    assert error_codes(same) == ["DOCUMENT_ALREADY_EXISTS"]  # one number, one _id
    assert error_codes(decimal) == []
    assert error_codes(again) == ["DOCUMENT_ALREADY_EXISTS"]
    assert "0.10000000000000000001" in again["errors"][0]["message"]


def test_vector_components_are_numbers_within_a_floats_range(data_api: DataApiClient) -> None:
    path = _create(data_api, "vector_numbers", vector={"dimension": 2})

    huge = _raw(data_api, path, '{"insertOne":{"document":{"$vector":[1' + "0" * 400 + ",1]}}}")
    precise = _raw(
        data_api, path, '{"insertOne":{"document":{"_id":"p","$vector":[1.00000000000000000001,2]}}}'
    )

    assert error_codes(huge) == ["SHRED_BAD_VECTOR_VALUE"]
    assert error_codes(precise) == []
    assert error_codes(data_api.run(path, "find", {"projection": {"$vector": "yes"}})) == [
        "UNSUPPORTED_PROJECTION_PARAM"
    ]


def test_vector_existence_filters_and_indexing_lists_as_sets(data_api: DataApiClient) -> None:
    path = _create(data_api, "vector_exists", vector={"dimension": 2}, indexing={"allow": ["b", "a"]})
    _ok(data_api.run(path, "insertMany", {"documents": [{"_id": 1, "$vector": [1, 0]}, {"_id": 2}]}))

    with_vector = data_api.run(path, "find", {"filter": {"$vector": {"$exists": True}}})["data"]["documents"]
    again = data_api.run(
        KEYSPACE,
        "createCollection",
        {
            "name": "vector_exists",
            "options": {"vector": {"dimension": 2}, "indexing": {"allow": ["a", "b", "a"]}},
        },
    )

    assert [doc["_id"] for doc in with_vector] == [1]
    assert error_codes(data_api.run(path, "find", {"filter": {"$vector": [1, 0]}})) == [
        "FILTER_INVALID_EXPRESSION"
    ]
    assert again == {"status": {"ok": 1}}
