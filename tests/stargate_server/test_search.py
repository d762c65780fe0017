"""Collection search: where, page-size, page-state and fields."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from .docs_client import DocsClient

PEOPLE: dict[str, dict[str, Any]] = {
    "ann": {"name": "Ann", "age": 31, "city": "Oslo", "vip": True, "address": {"zip": "0150"}},
    "bob": {"name": "Bob", "age": 45, "city": "Bergen", "vip": False, "address": {"zip": "5003"}},
    "cid": {"name": "Cid", "age": 27, "city": "Oslo", "vip": False},
    "dee": {"name": "Dee", "age": 45.5, "city": "Tromsø", "tags": ["x", "y"]},
}


@pytest.fixture
def people(client: DocsClient, orders: str) -> str:
    for doc_id, person in PEOPLE.items():
        assert client.put(f"{orders}/{doc_id}", json=person).status_code == 200
    return orders


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"city": {"$eq": "Oslo"}}, {"ann", "cid"}),
        ({"city": {"$ne": "Oslo"}}, {"bob", "dee"}),
        ({"age": {"$gt": 31}}, {"bob", "dee"}),
        ({"age": {"$gte": 31}}, {"ann", "bob", "dee"}),
        ({"age": {"$lt": 31}}, {"cid"}),
        ({"age": {"$lte": 31}}, {"ann", "cid"}),
        ({"age": {"$gt": 30, "$lt": 46}}, {"ann", "bob", "dee"}),
        ({"city": {"$in": ["Bergen", "Tromsø"]}}, {"bob", "dee"}),
        ({"city": {"$nin": ["Bergen", "Tromsø"]}}, {"ann", "cid"}),
        ({"vip": {"$exists": True}}, {"ann", "bob", "cid"}),
        ({"vip": {"$eq": True}}, {"ann"}),
        ({"vip": {"$ne": True}}, {"bob", "cid", "dee"}),
        ({"address.zip": {"$eq": "5003"}}, {"bob"}),
        ({"tags.[1]": {"$eq": "y"}}, {"dee"}),
        ({"tags.[*]": {"$eq": "x"}}, {"dee"}),
        ({"city": {"$eq": "Oslo"}, "age": {"$gt": 30}}, {"ann"}),
        ({"$and": [{"city": {"$eq": "Oslo"}}, {"age": {"$lt": 30}}]}, {"cid"}),
        ({"$or": [{"name": {"$eq": "Ann"}}, {"age": {"$gte": 45}}]}, {"ann", "bob", "dee"}),
        ({"$not": {"city": {"$eq": "Oslo"}}}, {"bob", "dee"}),
        ({"age": {"$eq": 45.0}}, {"bob"}),
        ({"age": {"$eq": "45"}}, set()),
    ],
)
def test_where_operators_select_matching_documents(
    client: DocsClient, people: str, where: dict[str, Any], expected: set[str]
) -> None:
    # When the collection is searched with a filter
    response = client.search(people, where=where, page_size=20)

    # Then exactly the matching documents come back, whole
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["data"]) == expected
    assert "pageState" not in body
    for doc_id in expected:
        assert body["data"][doc_id] == PEOPLE[doc_id]


def test_no_match_answers_empty_data(client: DocsClient, people: str) -> None:
    response = client.search(people, where={"city": {"$eq": "Paris"}})

    assert (response.status_code, response.json()) == (200, {"data": {}})


@pytest.mark.parametrize(
    "where",
    [
        {"city": {"$eq": None}},
        {"city": {"$eq": {}}},
        {"city": {"$eq": []}},
        {"city": {"$in": "Oslo"}},
        {"city": {"$nin": "Oslo"}},
        {"city": {"$exists": False}},
        {"city": {"$regex": "O.*"}},
        {"city": "Oslo"},
        {"$or": {"city": {"$eq": "Oslo"}}},
        ["city"],
    ],
)
def test_invalid_filters_answer_400(client: DocsClient, people: str, where: Any) -> None:
    response = client.search(people, where=where)

    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_a_where_that_is_not_json_answers_400(client: DocsClient, people: str) -> None:
    response = client.get(people, params={"where": "{not json"})

    assert response.status_code == 400
    assert response.json() == {
        "description": "The `where` parameter expects a valid JSON object representing search criteria.",
        "code": 400,
    }


def test_the_default_page_size_is_3(client: DocsClient, people: str) -> None:
    response = client.search(people)

    body = response.json()
    assert len(body["data"]) == 3
    assert "pageState" in body


@pytest.mark.parametrize("page_size", ["21", "0", "-1", "abc", "2.5"])
def test_page_size_out_of_range_or_not_an_integer_answers_400(
    client: DocsClient, people: str, page_size: str
) -> None:
    response = client.search(people, page_size=page_size)

    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_page_size_21_answers_the_stargate_message(client: DocsClient, people: str) -> None:
    response = client.search(people, page_size=21)

    assert response.json() == {
        "description": "Request invalid: the max number of documents to return is 20.",
        "code": 400,
    }


def test_an_invalid_page_state_answers_400(client: DocsClient, people: str) -> None:
    response = client.search(people, page_state="not*a*page*state")

    assert response.status_code == 400


@pytest.fixture
def many_orders(client: DocsClient, orders: str) -> str:
    documents = [{"orderId": f"order-{n:03d}", "n": n, "even": n % 2 == 0} for n in range(45)]
    response = client.post(f"{orders}/batch", params={"id-path": "orderId"}, json=documents)
    assert response.status_code == 202
    return orders


def test_paging_visits_every_document_exactly_once(client: DocsClient, many_orders: str) -> None:
    # When 45 documents are read 20 at a time
    ids, pages = client.search_all(many_orders, page_size=20)

    # Then three pages hold each document once, and only the last lacks pageState
    assert pages == 3
    assert sorted(ids) == [f"order-{n:03d}" for n in range(45)]
    assert len(ids) == len(set(ids))


def test_paging_with_a_filter_visits_every_match_exactly_once(client: DocsClient, many_orders: str) -> None:
    ids, pages = client.search_all(many_orders, page_size=5, where={"even": {"$eq": True}})

    assert sorted(ids) == [f"order-{n:03d}" for n in range(0, 45, 2)]
    assert len(ids) == len(set(ids))
    assert pages == 5  # 23 matches: 5 + 5 + 5 + 5 + 3


def test_an_exactly_full_last_page_has_no_page_state(client: DocsClient, orders: str) -> None:
    for n in range(4):
        client.put(f"{orders}/d{n}", json={"n": n})

    ids, pages = client.search_all(orders, page_size=2)

    assert (len(ids), pages) == (4, 2)


def test_paging_is_stable_while_documents_are_inserted(client: DocsClient, many_orders: str) -> None:
    # Given a client paging through the collection while another inserts new documents
    seen: list[str] = []
    page_state: str | None = None
    for round_number in range(100):
        params = {"page_state": page_state} if page_state else {}
        body = client.search(many_orders, page_size=7, **params).json()
        seen.extend(body["data"])
        page_state = body.get("pageState")
        client.put(f"{many_orders}/inserted-{round_number}", json={"n": -1})
        if page_state is None:
            break

    # Then no document is ever returned twice, and every original one is seen
    assert len(seen) == len(set(seen))
    assert {f"order-{n:03d}" for n in range(45)} <= set(seen)


def test_fields_projects_top_level_and_nested_paths(client: DocsClient, people: str) -> None:
    response = client.search(people, where={"name": {"$eq": "Ann"}}, fields=["name", "address.zip"])

    assert response.json() == {"data": {"ann": {"name": "Ann", "address": {"zip": "0150"}}}}


def test_fields_must_be_a_json_array_of_names(client: DocsClient, people: str) -> None:
    not_json = client.get(people, params={"fields": "name"})
    not_names = client.search(people, fields=[1])

    assert not_json.status_code == 400
    assert not_names.status_code == 400


def test_concurrent_searches_and_writes_do_not_fail(client: DocsClient, many_orders: str) -> None:
    errors: list[str] = []

    def search_repeatedly() -> None:
        with requests.Session() as session:
            own = DocsClient(client.base_url, session, client.token)
            for _ in range(10):
                response = own.search(many_orders, page_size=20, where={"n": {"$gte": 0}})
                if response.status_code != 200:
                    errors.append(response.text)

    threads = [threading.Thread(target=search_repeatedly) for _ in range(4)]
    for thread in threads:
        thread.start()
    for n in range(20):
        client.put(f"{many_orders}/extra-{n}", json={"n": 100 + n})
    for thread in threads:
        thread.join()

    assert errors == []
