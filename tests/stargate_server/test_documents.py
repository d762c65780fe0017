"""Single documents: PUT, GET, PATCH, DELETE, POST, sub-paths, batch and ttl."""

from __future__ import annotations

from .conftest import FakeClock
from .docs_client import DocsClient


def test_put_then_get_returns_the_document(client: DocsClient, orders: str) -> None:
    # Given a document stored with PUT
    order = {"customer": "c-1", "items": [{"sku": "A", "qty": 2}], "paid": False, "note": None}
    put = client.put(f"{orders}/o-1", json=order)

    # When it is read back, wrapped and raw
    wrapped = client.get(f"{orders}/o-1")
    raw = client.get(f"{orders}/o-1", params={"raw": "true"})

    # Then PUT answered 200 with the id, and both reads return the stored data
    assert (put.status_code, put.json()) == (200, {"documentId": "o-1"})
    assert (wrapped.status_code, wrapped.json()) == (200, {"documentId": "o-1", "data": order})
    assert (raw.status_code, raw.json()) == (200, order)


def test_put_replaces_the_whole_document(client: DocsClient, orders: str) -> None:
    client.put(f"{orders}/o-1", json={"a": 1, "b": 2})

    client.put(f"{orders}/o-1", json={"c": 3})

    assert client.get(f"{orders}/o-1", params={"raw": "true"}).json() == {"c": 3}


def test_a_missing_document_is_404_with_an_empty_body(client: DocsClient, orders: str) -> None:
    # Given an existing collection without the document
    client.put(f"{orders}/other", json={"a": 1})

    # When the missing document is read
    response = client.get(f"{orders}/missing")

    # Then v1 answers 404 and no body at all
    assert response.status_code == 404
    assert response.content == b""


def test_patch_merges_top_level_keys(client: DocsClient, orders: str) -> None:
    # Given a document with a nested object and an array
    client.put(
        f"{orders}/o-1", json={"status": "NEW", "address": {"city": "Oslo", "zip": "0150"}, "tags": [1, 2]}
    )

    # When it is patched
    response = client.patch(
        f"{orders}/o-1", json={"status": "PAID", "address": {"city": "Bergen"}, "tags": [3]}
    )

    # Then top-level keys are merged, and sub-objects and arrays replaced
    assert (response.status_code, response.json()) == (200, {"documentId": "o-1"})
    assert client.get(f"{orders}/o-1", params={"raw": "true"}).json() == {
        "status": "PAID",
        "address": {"city": "Bergen"},
        "tags": [3],
    }


def test_patch_creates_a_missing_document(client: DocsClient, orders: str) -> None:
    response = client.patch(f"{orders}/new", json={"a": 1})

    assert response.status_code == 200
    assert client.get(f"{orders}/new", params={"raw": "true"}).json() == {"a": 1}


def test_patch_with_an_array_or_an_empty_object_answers_400(client: DocsClient, orders: str) -> None:
    array = client.patch(f"{orders}/o-1", json=[{"a": 1}])
    empty = client.patch(f"{orders}/o-1", json={})

    assert array.status_code == 400
    assert array.json() == {
        "description": "A patch operation must be done with a JSON object, not an array.",
        "code": 400,
    }
    assert empty.status_code == 400
    assert empty.json()["code"] == 400


def test_delete_answers_204_whether_or_not_the_document_existed(client: DocsClient, orders: str) -> None:
    # Given a stored document
    client.put(f"{orders}/o-1", json={"a": 1})

    # When it is deleted twice
    first = client.delete(f"{orders}/o-1")
    second = client.delete(f"{orders}/o-1")

    # Then both answer 204 without a body, and the document is gone
    assert (first.status_code, first.content) == (204, b"")
    assert (second.status_code, second.content) == (204, b"")
    assert client.get(f"{orders}/o-1").status_code == 404


def test_delete_in_a_missing_collection_answers_404(client: DocsClient, namespace: str) -> None:
    response = client.delete(f"/v2/namespaces/{namespace}/collections/nothing_here/o-1")

    assert response.status_code == 404
    assert response.json() == {"description": "Collection nothing_here does not exist.", "code": 404}


def test_post_creates_a_document_with_a_random_id(client: DocsClient, orders: str) -> None:
    # When two identical documents are posted
    first = client.post(orders, json={"a": 1})
    second = client.post(orders, json={"a": 1})

    # Then each gets 201, its own id and a Location pointing at it
    assert first.status_code == 201
    doc_id = first.json()["documentId"]
    assert doc_id != second.json()["documentId"]
    assert first.headers["Location"].endswith(f"{orders}/{doc_id}")
    assert client.get(f"{orders}/{doc_id}", params={"raw": "true"}).json() == {"a": 1}


def test_reading_a_missing_collection_or_namespace_answers_404_with_a_description(
    client: DocsClient, namespace: str
) -> None:
    collection = client.get(f"/v2/namespaces/{namespace}/collections/nothing_here/o-1")
    search = client.get(f"/v2/namespaces/{namespace}/collections/nothing_here")
    ns = client.get("/v2/namespaces/no_ns/collections/orders/o-1")

    assert (collection.status_code, collection.json()) == (
        404,
        {"description": "Collection nothing_here does not exist.", "code": 404},
    )
    assert (search.status_code, search.json()) == (
        404,
        {"description": "Collection nothing_here does not exist.", "code": 404},
    )
    assert (ns.status_code, ns.json()) == (
        404,
        {"description": "Namespace no_ns does not exist.", "code": 404},
    )


def test_writing_into_a_missing_namespace_answers_404(client: DocsClient) -> None:
    response = client.put("/v2/namespaces/no_ns/collections/orders/o-1", json={"a": 1})

    assert response.status_code == 404
    assert response.json() == {
        "description": "Unknown namespace no_ns, you must create it first.",
        "code": 404,
    }


def test_invalid_collection_names_answer_400(client: DocsClient, namespace: str) -> None:
    response = client.put(f"/v2/namespaces/{namespace}/collections/bad-name/o-1", json={"a": 1})

    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_sub_paths_can_be_read_written_and_deleted(client: DocsClient, orders: str) -> None:
    # Given a document with nested data
    client.put(f"{orders}/o-1", json={"address": {"city": "Oslo"}, "items": [{"sku": "A"}, {"sku": "B"}]})

    # When values are read at sub-paths
    city = client.get(f"{orders}/o-1/address/city")
    sku = client.get(f"{orders}/o-1/items/[1]/sku", params={"raw": "true"})
    missing = client.get(f"{orders}/o-1/address/street")

    # Then they come back, and a missing path is a bodiless 404
    assert city.json() == {"documentId": "o-1", "data": "Oslo"}
    assert sku.json() == "B"
    assert (missing.status_code, missing.content) == (404, b"")

    # And writes at sub-paths change only that part
    assert client.put(f"{orders}/o-1/address", json={"city": "Bergen", "zip": "5003"}).status_code == 200
    assert client.patch(f"{orders}/o-1/address", json={"zip": "5004"}).status_code == 200
    assert client.delete(f"{orders}/o-1/items").status_code == 204
    assert client.get(f"{orders}/o-1", params={"raw": "true"}).json() == {
        "address": {"city": "Bergen", "zip": "5004"}
    }


def test_batch_writes_documents_with_ids_from_a_field(client: DocsClient, orders: str) -> None:
    # When a batch is posted with id-path
    response = client.post(
        f"{orders}/batch",
        params={"id-path": "orderId"},
        json=[{"orderId": "b-1", "n": 1}, {"orderId": "b-2"}],
    )

    # Then it answers 202 with the ids, and the documents are stored under them
    assert (response.status_code, response.json()) == (202, {"documentIds": ["b-1", "b-2"]})
    assert client.get(f"{orders}/b-1", params={"raw": "true"}).json() == {"orderId": "b-1", "n": 1}


def test_batch_without_id_path_makes_random_ids(client: DocsClient, orders: str) -> None:
    response = client.post(f"{orders}/batch", json=[{"a": 1}, {"a": 2}])

    assert response.status_code == 202
    ids = response.json()["documentIds"]
    assert len(set(ids)) == 2
    assert client.get(f"{orders}/{ids[1]}", params={"raw": "true"}).json() == {"a": 2}


def test_a_document_with_ttl_disappears_when_it_expires(
    client: DocsClient, orders: str, clock: FakeClock
) -> None:
    # Given a document written with ttl=60
    assert client.put(f"{orders}/short", params={"ttl": "60"}, json={"a": 1}).status_code == 200

    # Then it is readable for 60 seconds, and gone afterwards
    clock.advance(59)
    assert client.get(f"{orders}/short").status_code == 200
    clock.advance(2)
    assert client.get(f"{orders}/short").status_code == 404
    assert client.search(orders).json() == {"data": {}}


def test_an_invalid_ttl_answers_400(client: DocsClient, orders: str) -> None:
    for ttl in ("0", "-5", "soon"):
        response = client.put(f"{orders}/o-1", params={"ttl": ttl}, json={"a": 1})
        assert response.status_code == 400, ttl
