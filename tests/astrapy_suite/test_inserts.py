"""Inserts through astrapy: ``insert_one``, and ``insert_many`` of hundreds of documents in every mode.

astrapy's ``insert_many`` cuts the documents into chunks (50 by default), sends one ``insertMany`` per
chunk (20 at a time when unordered), always with ``returnDocumentResponses``, and builds its result from
the per-document answers.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from typing import Any

import pytest
from astrapy import Collection
from astrapy.data_types import DataAPITimestamp
from astrapy.exceptions import CollectionInsertManyException, DataAPIResponseException
from astrapy.ids import ObjectId

from .errors import error_codes

MANY = 300


def _documents(count: int, prefix: str = "d") -> list[dict[str, Any]]:
    return [
        {"_id": f"{prefix}{n:04d}", "n": n, "group": "even" if n % 2 == 0 else "odd"} for n in range(count)
    ]


def test_insert_one_returns_the_id_and_keeps_every_value_type(collection: Collection) -> None:
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)
    document = {
        "_id": "o1",
        "big": 2**53 + 1,
        "price": 12.5,
        "paid": True,
        "note": None,
        "tags": ["a", "b"],
        "nested": {"deep": {"list": [1, {"x": "y"}]}},
        "when": moment,
        "ref": uuid.UUID(int=42),
    }

    assert collection.insert_one(document).inserted_id == "o1"

    found = collection.find_one({"_id": "o1"})
    assert found is not None
    when = found.pop("when")
    assert isinstance(when, DataAPITimestamp)
    assert when.to_datetime(tz=datetime.UTC) == moment
    assert found == {key: value for key, value in document.items() if key != "when"}


def test_insert_one_without_an_id_gets_one_and_typed_ids_work(collection: Collection) -> None:
    generated = collection.insert_one({"v": 1}).inserted_id
    uuid_id = uuid.UUID(int=7)
    object_id = ObjectId()

    assert collection.insert_one({"_id": uuid_id, "v": 2}).inserted_id == uuid_id
    assert collection.insert_one({"_id": object_id, "v": 3}).inserted_id == object_id

    assert collection.find_one({"_id": generated}) == {"_id": generated, "v": 1}
    assert collection.find_one({"_id": uuid_id}) == {"_id": uuid_id, "v": 2}
    assert collection.find_one({"_id": object_id}) == {"_id": object_id, "v": 3}


def test_insert_one_with_an_existing_id_is_document_already_exists(collection: Collection) -> None:
    collection.insert_one({"_id": "o1", "v": 1})

    with pytest.raises(DataAPIResponseException) as raised:
        collection.insert_one({"_id": "o1", "v": 2})

    assert error_codes(raised.value) == ["DOCUMENT_ALREADY_EXISTS"]
    assert collection.find_one({"_id": "o1"}) == {"_id": "o1", "v": 1}


@pytest.mark.parametrize(
    "mode",
    [
        {},  # unordered, chunks of 50, 20 at a time: astrapy's default
        {"ordered": True},  # one chunk after the other
        {"ordered": False, "chunk_size": 100, "concurrency": 1},  # the server's largest chunk
        {"ordered": True, "chunk_size": 7},
    ],
    ids=["unordered-concurrent", "ordered", "unordered-chunks-of-100", "ordered-chunks-of-7"],
)
def test_insert_many_stores_hundreds_of_documents(collection: Collection, mode: dict[str, Any]) -> None:
    documents = _documents(MANY)

    result = collection.insert_many(documents, **mode)

    expected_ids = [document["_id"] for document in documents]
    if mode.get("ordered"):
        assert result.inserted_ids == expected_ids
    else:
        assert sorted(result.inserted_ids) == expected_ids
    assert collection.count_documents({}, upper_bound=1000) == MANY
    assert sorted(document["_id"] for document in collection.find({}, projection={"_id": True})) == (
        expected_ids
    )


def test_insert_many_without_ids_returns_the_generated_ones(collection: Collection) -> None:
    result = collection.insert_many([{"n": n} for n in range(120)])

    assert len(set(result.inserted_ids)) == 120
    stored = {document["_id"]: document["n"] for document in collection.find({})}
    assert set(stored) == set(result.inserted_ids)
    assert sorted(stored.values()) == list(range(120))


def test_an_ordered_insert_many_stops_at_a_duplicate(collection: Collection) -> None:
    collection.insert_one({"_id": "d0005", "n": -1})

    with pytest.raises(CollectionInsertManyException) as raised:
        collection.insert_many(_documents(12), ordered=True, chunk_size=4)

    assert raised.value.inserted_ids == ["d0000", "d0001", "d0002", "d0003", "d0004"]
    (cause,) = raised.value.exceptions
    assert isinstance(cause, DataAPIResponseException)
    assert error_codes(cause) == ["DOCUMENT_ALREADY_EXISTS"]
    assert collection.count_documents({}, upper_bound=100) == 6  # nothing after the duplicate


def test_an_unordered_insert_many_inserts_all_but_the_duplicates(collection: Collection) -> None:
    collection.insert_many([{"_id": "d0003"}, {"_id": "d0010"}])

    with pytest.raises(CollectionInsertManyException) as raised:
        collection.insert_many(_documents(12), chunk_size=5)

    expected = [f"d{n:04d}" for n in range(12) if n not in (3, 10)]
    assert sorted(raised.value.inserted_ids) == expected
    codes = [code for cause in raised.value.exceptions for code in error_codes(cause)]  # type: ignore[arg-type]
    assert codes == ["DOCUMENT_ALREADY_EXISTS", "DOCUMENT_ALREADY_EXISTS"]
    assert collection.count_documents({}, upper_bound=100) == 12


def test_insert_many_through_the_async_api(collection: Collection) -> None:
    async def insert() -> list[Any]:
        result = await collection.to_async().insert_many(_documents(MANY), concurrency=10)
        return result.inserted_ids

    inserted = asyncio.run(insert())

    assert sorted(inserted) == [f"d{n:04d}" for n in range(MANY)]
    assert collection.count_documents({}, upper_bound=1000) == MANY
