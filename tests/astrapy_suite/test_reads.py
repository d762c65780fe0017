"""Reads through astrapy: ``find_one``, ``find`` cursors across server pages, sorts, ``distinct``, counts."""

from __future__ import annotations

from typing import Any

import pytest
from astrapy import Collection
from astrapy.cursors import CursorState
from astrapy.exceptions import TooManyDocumentsToCountException

COUNT = 130  # more than two pages whatever the server's page size (20 or 50)


@pytest.fixture
def filled(collection: Collection) -> Collection:
    collection.insert_many(
        [
            {"_id": f"d{n:04d}", "n": n, "group": "even" if n % 2 == 0 else "odd", "tags": [f"t{n % 3}"]}
            for n in range(COUNT)
        ]
    )
    return collection


def test_find_one_filters_projects_and_sorts(filled: Collection) -> None:
    assert filled.find_one({"n": 7}) == {"_id": "d0007", "n": 7, "group": "odd", "tags": ["t1"]}
    assert filled.find_one({"n": 7}, projection={"group": True}) == {"_id": "d0007", "group": "odd"}
    assert filled.find_one({"n": 7}, projection={"tags": False, "_id": False}) == {"n": 7, "group": "odd"}
    assert filled.find_one({"group": "odd"}, sort={"n": -1}, projection={"n": 1}) == {
        "_id": "d0129",
        "n": 129,
    }
    assert filled.find_one({"n": {"$gt": COUNT}}) is None


def test_a_cursor_visits_every_match_once_across_server_pages(filled: Collection) -> None:
    cursor = filled.find({"group": "even", "n": {"$gte": 10}}, projection={"n": True})

    documents = list(cursor)

    assert sorted(document["n"] for document in documents) == list(range(10, COUNT, 2))
    assert all(set(document) == {"_id", "n"} for document in documents)
    assert cursor.state == CursorState.CLOSED
    assert cursor.consumed == len(documents)


def test_a_cursor_limit_caps_the_total_across_pages(filled: Collection) -> None:
    documents = filled.find({}, limit=75).to_list()

    assert len(documents) == 75
    assert len({document["_id"] for document in documents}) == 75


def test_pages_can_be_fetched_one_by_one_and_resumed_from_their_page_state(filled: Collection) -> None:
    first = filled.find({"group": "odd"}).fetch_next_page()
    assert first.next_page_state is not None  # 65 matches: more than one page
    seen = [document["n"] for document in first.results]
    page_state = first.next_page_state
    pages = 1
    while page_state is not None:
        page = filled.find({"group": "odd"}, initial_page_state=page_state).fetch_next_page()
        seen.extend(document["n"] for document in page.results)
        page_state = page.next_page_state
        pages += 1

    assert pages >= 2
    assert sorted(seen) == list(range(1, COUNT, 2))


def test_a_cursor_maps_rewinds_and_reports_what_is_left(filled: Collection) -> None:
    cursor = filled.find({"n": {"$lt": 30}}).map(lambda document: document["n"])

    assert cursor.has_next()
    first = next(cursor)
    assert 0 < cursor.buffered_count + 1 <= 30
    rest = cursor.to_list()
    assert sorted([first, *rest]) == list(range(30))
    cursor.rewind()
    assert sorted(cursor.to_list()) == list(range(30))


def test_a_sorted_find_honours_skip_and_limit(filled: Collection) -> None:
    documents = filled.find({"group": "odd"}, sort={"n": -1}, skip=5, limit=10, projection={"n": 1}).to_list()

    assert [document["n"] for document in documents] == list(range(119, 99, -2))


def test_filters_use_operators_paths_and_logic(filled: Collection) -> None:
    def ns(filter: dict[str, Any]) -> list[int]:
        return sorted(document["n"] for document in filled.find(filter, projection={"n": True}))

    assert ns({"n": {"$in": [1, 2, 500]}}) == [1, 2]
    assert ns({"$or": [{"n": 3}, {"n": {"$gt": 127}}]}) == [3, 128, 129]
    assert ns({"$and": [{"group": "even"}, {"n": {"$lt": 6}}]}) == [0, 2, 4]
    assert ns({"tags": "t2", "n": {"$lte": 11}}) == [2, 5, 8, 11]
    assert ns({"tags.0": "t0", "n": {"$lt": 7}}) == [0, 3, 6]
    assert ns({"n": {"$lt": 3}, "missing": {"$exists": False}}) == [0, 1, 2]
    assert ns({"$not": {"n": {"$gte": 2}}}) == [0, 1]


def test_distinct_lists_each_value_once(filled: Collection) -> None:
    assert sorted(filled.distinct("group")) == ["even", "odd"]
    assert sorted(filled.distinct("tags", filter={"n": {"$lt": 10}})) == ["t0", "t1", "t2"]


def test_count_documents_counts_matches_up_to_a_bound(filled: Collection) -> None:
    assert filled.count_documents({}, upper_bound=1000) == COUNT
    assert filled.count_documents({"group": "odd"}, upper_bound=1000) == COUNT // 2

    with pytest.raises(TooManyDocumentsToCountException):
        filled.count_documents({}, upper_bound=100)


def test_estimated_document_count_answers_a_number(filled: Collection) -> None:
    # Real servers estimate from table statistics, which lag behind recent writes.
    estimate = filled.estimated_document_count()

    assert isinstance(estimate, int)
    assert estimate >= 0
