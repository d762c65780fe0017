"""Failures as astrapy surfaces them: the exception class and the Data API error codes it carries."""

from __future__ import annotations

import uuid

import pytest
from astrapy import Collection, Database
from astrapy.exceptions import DataAPIHttpException, DataAPIResponseException

from .conftest import AstraBackend
from .errors import error_codes


def test_a_collection_that_does_not_exist_is_unknown_collection(database: Database) -> None:
    missing = database.get_collection(f"missing_{uuid.uuid4().hex[:12]}")

    with pytest.raises(DataAPIResponseException) as on_read:
        missing.find_one({})
    with pytest.raises(DataAPIResponseException) as on_write:
        missing.insert_one({"_id": "x"})

    assert error_codes(on_read.value) == ["UNKNOWN_COLLECTION_OR_TABLE"]
    assert error_codes(on_write.value) == ["UNKNOWN_COLLECTION_OR_TABLE"]


def test_a_keyspace_that_does_not_exist_is_unknown_keyspace(astra_backend: AstraBackend) -> None:
    database = astra_backend.database(keyspace=f"missing_{uuid.uuid4().hex[:12]}")

    with pytest.raises(DataAPIResponseException) as raised:
        database.list_collection_names()

    assert error_codes(raised.value) == ["UNKNOWN_KEYSPACE"]


def test_an_operator_the_data_api_lacks_is_an_unsupported_filter_operator(collection: Collection) -> None:
    collection.insert_one({"_id": "a", "name": "x"})

    with pytest.raises(DataAPIResponseException) as on_find_one:
        collection.find_one({"name": {"$regex": "^x"}})
    with pytest.raises(DataAPIResponseException) as on_cursor:
        collection.find({"name": {"$regex": "^x"}}).to_list()

    assert error_codes(on_find_one.value) == ["FILTER_UNSUPPORTED_OPERATOR"]
    assert error_codes(on_cursor.value) == ["FILTER_UNSUPPORTED_OPERATOR"]


def test_a_malformed_filter_is_an_invalid_filter_expression(collection: Collection) -> None:
    with pytest.raises(DataAPIResponseException) as raised:
        collection.count_documents({"total": {"$gt": [1, 2]}}, upper_bound=10)

    assert error_codes(raised.value) == ["FILTER_INVALID_EXPRESSION"]


def test_a_rejected_token_is_an_http_401(astra_backend: AstraBackend) -> None:
    database = astra_backend.client().get_database(
        astra_backend.api_endpoint, token="AstraCS:not-a-token", keyspace=astra_backend.keyspace
    )

    with pytest.raises(DataAPIHttpException) as raised:
        database.list_collection_names()

    assert raised.value.response.status_code == 401
