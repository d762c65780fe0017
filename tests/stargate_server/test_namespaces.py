"""Namespaces under /v2/schemas/namespaces."""

from __future__ import annotations

import pytest

from .docs_client import DocsClient


def test_create_then_describe_a_namespace(client: DocsClient) -> None:
    # When a namespace is created (twice: v1 never answers 409)
    first = client.post("/v2/schemas/namespaces", json={"name": "shop"})
    second = client.post("/v2/schemas/namespaces", json={"name": "shop", "replicas": 1})

    # Then both calls answer 201 and the namespace can be described, wrapped or raw
    assert (first.status_code, first.json()) == (201, {"name": "shop"})
    assert (second.status_code, second.json()) == (201, {"name": "shop"})
    described = client.get("/v2/schemas/namespaces/shop")
    assert (described.status_code, described.json()) == (200, {"data": {"name": "shop"}})
    raw = client.get("/v2/schemas/namespaces/shop", params={"raw": "true"})
    assert (raw.status_code, raw.json()) == (200, {"name": "shop"})
    listed = client.get("/v2/schemas/namespaces")
    assert listed.json() == {"data": [{"name": "shop"}]}


def test_describing_a_missing_namespace_answers_404(client: DocsClient) -> None:
    response = client.get("/v2/schemas/namespaces/nowhere")

    assert response.status_code == 404
    assert response.json() == {"description": "unable to describe namespace", "code": 404}


def test_deleting_a_namespace_removes_it_and_its_documents(client: DocsClient, namespace: str) -> None:
    # Given a namespace holding a document
    assert client.put(f"/v2/namespaces/{namespace}/collections/c/d", json={"a": 1}).status_code == 200

    # When the namespace is deleted
    response = client.delete(f"/v2/schemas/namespaces/{namespace}")

    # Then it answers 204 and reads now miss the namespace
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/v2/schemas/namespaces/{namespace}").status_code == 404
    missing = client.get(f"/v2/namespaces/{namespace}/collections/c/d")
    assert missing.json() == {"description": f"Namespace {namespace} does not exist.", "code": 404}
    # Deleting again is still 204
    assert client.delete(f"/v2/schemas/namespaces/{namespace}").status_code == 204


@pytest.mark.parametrize("name", ["has-dash", "a" * 49, "spa ce", "dot.ted"])
def test_invalid_namespace_names_answer_400(client: DocsClient, name: str) -> None:
    response = client.post("/v2/schemas/namespaces", json={"name": name})

    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_a_48_character_namespace_name_is_accepted(client: DocsClient) -> None:
    response = client.post("/v2/schemas/namespaces", json={"name": "N_" + "x" * 46})

    assert response.status_code == 201


def test_creating_a_namespace_without_a_body_answers_422(client: DocsClient) -> None:
    response = client.post("/v2/schemas/namespaces", data=b"")

    assert response.status_code == 422
    assert response.json() == {"description": "Request invalid: payload must not be empty.", "code": 422}


def test_collections_can_be_listed_created_and_deleted(client: DocsClient, namespace: str) -> None:
    # Given one collection created by a write and one created explicitly
    client.put(f"/v2/namespaces/{namespace}/collections/by_write/d", json={"a": 1})
    created = client.post(f"/v2/namespaces/{namespace}/collections", json={"name": "explicit"})

    # Then both are listed
    assert created.status_code == 201
    listed = client.get(f"/v2/namespaces/{namespace}/collections")
    assert listed.json() == {
        "data": [
            {"name": "by_write", "upgradeAvailable": False},
            {"name": "explicit", "upgradeAvailable": False},
        ]
    }
    # And creating one again is a conflict, deleting works once, then 404
    assert (
        client.post(f"/v2/namespaces/{namespace}/collections", json={"name": "explicit"}).status_code == 409
    )
    assert client.delete(f"/v2/namespaces/{namespace}/collections/explicit").status_code == 204
    gone = client.delete(f"/v2/namespaces/{namespace}/collections/explicit")
    assert gone.json() == {"description": "Collection explicit does not exist.", "code": 404}
