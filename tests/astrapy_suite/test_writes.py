"""Updates, replaces and deletes through astrapy, compare-and-set and upserts included."""

from __future__ import annotations

import threading

import pytest
from astrapy import Collection
from astrapy.constants import ReturnDocument

MANY = 45  # more than the 20 documents updateMany and deleteMany change per call


@pytest.fixture
def orders(collection: Collection) -> Collection:
    collection.insert_many(
        [{"_id": f"o{n:03d}", "n": n, "status": "PENDING", "total": 10 * n} for n in range(MANY)]
    )
    return collection


def test_update_one_with_a_precondition_is_compare_and_set(orders: Collection) -> None:
    paid = orders.update_one({"_id": "o001", "status": "PENDING"}, {"$set": {"status": "PAID"}})
    again = orders.update_one({"_id": "o001", "status": "PENDING"}, {"$set": {"status": "CANCELLED"}})

    assert (paid.update_info["n"], paid.update_info["nModified"]) == (1, 1)
    assert (again.update_info["n"], again.update_info["nModified"]) == (0, 0)
    assert orders.find_one({"_id": "o001"}, projection={"status": True}) == {"_id": "o001", "status": "PAID"}


def test_of_concurrent_transitions_from_one_state_exactly_one_wins(orders: Collection) -> None:
    targets = ["PAID", "CANCELLED"] * 4
    barrier = threading.Barrier(len(targets))
    matched: list[int] = []

    def transition(target: str) -> None:
        barrier.wait()
        result = orders.update_one({"_id": "o002", "status": "PENDING"}, {"$set": {"status": target}})
        matched.append(result.update_info["n"])

    threads = [threading.Thread(target=transition, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(matched) == [0] * (len(targets) - 1) + [1]


def test_update_operators_apply(orders: Collection) -> None:
    orders.update_one(
        {"_id": "o003"},
        {"$inc": {"total": 5}, "$push": {"events": "paid"}, "$unset": {"status": ""}, "$set": {"a.b": 1}},
    )

    assert orders.find_one({"_id": "o003"}) == {
        "_id": "o003",
        "n": 3,
        "total": 35,
        "events": ["paid"],
        "a": {"b": 1},
    }


def test_update_one_upserts_from_the_filter_and_the_update(collection: Collection) -> None:
    result = collection.update_one(
        {"_id": "new", "kind": "x"}, {"$set": {"v": 1}, "$setOnInsert": {"created": True}}, upsert=True
    )

    assert result.update_info["upserted"] == "new"
    assert collection.find_one({"_id": "new"}) == {"_id": "new", "kind": "x", "v": 1, "created": True}


def test_update_many_changes_every_match_across_calls(orders: Collection) -> None:
    result = orders.update_many({"status": "PENDING", "n": {"$gte": 2}}, {"$set": {"status": "SHIPPED"}})

    assert (result.update_info["n"], result.update_info["nModified"]) == (MANY - 2, MANY - 2)
    assert orders.count_documents({"status": "SHIPPED"}, upper_bound=1000) == MANY - 2
    upserted = orders.update_many({"_id": "none"}, {"$set": {"v": 1}}, upsert=True)
    assert upserted.update_info["upserted"] == "none"


def test_find_one_and_update_returns_the_document_before_or_after(orders: Collection) -> None:
    before = orders.find_one_and_update(
        {"status": "PENDING"}, {"$set": {"status": "PAID"}}, sort={"n": -1}, projection={"status": True}
    )
    after = orders.find_one_and_update(
        {"_id": "o000"}, {"$inc": {"total": 1}}, return_document=ReturnDocument.AFTER
    )
    missing = orders.find_one_and_update({"_id": "nope"}, {"$set": {"v": 1}})
    upserted = orders.find_one_and_update(
        {"_id": "up"}, {"$set": {"v": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )

    assert before == {"_id": f"o{MANY - 1:03d}", "status": "PENDING"}
    assert orders.find_one({"_id": f"o{MANY - 1:03d}"}, projection={"status": 1})["status"] == "PAID"  # type: ignore[index]
    assert after == {"_id": "o000", "n": 0, "status": "PENDING", "total": 1}
    assert missing is None
    assert upserted == {"_id": "up", "v": 1}


def test_find_one_and_replace_and_replace_one_keep_the_id(orders: Collection) -> None:
    old = orders.find_one_and_replace({"_id": "o004"}, {"replaced": 1})
    replaced = orders.replace_one({"_id": "o005"}, {"replaced": 2})
    upserted = orders.replace_one({"_id": "fresh"}, {"replaced": 3}, upsert=True)
    after = orders.find_one_and_replace(
        {"n": 6}, {"replaced": 4}, return_document=ReturnDocument.AFTER, projection={"replaced": True}
    )

    assert old == {"_id": "o004", "n": 4, "status": "PENDING", "total": 40}
    assert orders.find_one({"_id": "o004"}) == {"_id": "o004", "replaced": 1}
    assert (replaced.update_info["n"], replaced.update_info["nModified"]) == (1, 1)
    assert orders.find_one({"_id": "o005"}) == {"_id": "o005", "replaced": 2}
    assert upserted.update_info["upserted"] == "fresh"
    assert orders.find_one({"_id": "fresh"}) == {"_id": "fresh", "replaced": 3}
    assert after == {"_id": "o006", "replaced": 4}


def test_deletes_remove_one_or_every_match(orders: Collection) -> None:
    assert orders.delete_one({"_id": "o000"}).deleted_count == 1
    assert orders.delete_one({"_id": "o000"}).deleted_count == 0
    gone = orders.find_one_and_delete({"status": "PENDING"}, sort={"total": -1}, projection={"n": True})
    assert gone == {"_id": f"o{MANY - 1:03d}", "n": MANY - 1}
    assert orders.find_one_and_delete({"_id": "o000"}) is None

    assert orders.delete_many({"n": {"$lt": 40}}).deleted_count == 39  # o001 .. o039, over two calls
    assert orders.count_documents({}, upper_bound=1000) == 4

    orders.delete_many({})  # an empty filter empties the collection (astrapy reports no count)
    assert orders.count_documents({}, upper_bound=1000) == 0
