"""What a document may contain, and how numbers come back."""

from __future__ import annotations

from typing import Any

import pytest

from .docs_client import DocsClient


def test_whole_doubles_come_back_as_integers(client: DocsClient, orders: str) -> None:
    # Given numbers written as doubles, integers and fractions
    client.put(f"{orders}/n", json={"whole": 1.0, "int": 7, "fraction": 2.5, "negative": -3.0})

    # When read back, whole values are integers and fractions stay doubles
    body = client.get(f"{orders}/n", params={"raw": "true"}).text

    assert body == '{"whole":1,"int":7,"fraction":2.5,"negative":-3}'


def test_integers_beyond_2_to_the_53_lose_precision(client: DocsClient, orders: str) -> None:
    client.put(f"{orders}/n", data=b'{"big": 9007199254740993}')

    assert client.get(f"{orders}/n", params={"raw": "true"}).json() == {"big": 9007199254740992}


def test_nested_values_round_trip(client: DocsClient, orders: str) -> None:
    document: dict[str, Any] = {
        "empty_obj": {},
        "empty_list": [],
        "null": None,
        "flag": True,
        "text": "ü ✓",
        "deep": [[1], {"a": []}],
    }
    client.put(f"{orders}/n", json=document)

    assert client.get(f"{orders}/n", params={"raw": "true"}).json() == document


@pytest.mark.parametrize("field", ["a[0]", "a.b", "it's", "back\\slash", ""])
def test_forbidden_field_names_answer_400(client: DocsClient, orders: str, field: str) -> None:
    # When a document has a field name Stargate cannot store (even when nested)
    response = client.put(f"{orders}/n", json={"ok": {field: 1}})

    # Then it is refused with the field-name message
    assert response.status_code == 400
    assert response.json() == {
        "description": "Array paths contained in square brackets, periods, single quotes, and backslash are "
        f"not allowed in field names, invalid field {field}",
        "code": 400,
    }


@pytest.mark.parametrize("field", ["a]", "*", "a,b", "$x", "@", "?", "with space", 'quo"te'])
def test_other_special_characters_are_allowed_in_field_names(
    client: DocsClient, orders: str, field: str
) -> None:
    response = client.put(f"{orders}/n", json={field: 1})

    assert response.status_code == 200
    assert client.get(f"{orders}/n", params={"raw": "true"}).json() == {field: 1}


@pytest.mark.parametrize("body", [b"42", b'"text"', b"true", b"null", b"{}", b"[]"])
def test_scalar_null_and_empty_roots_answer_400(client: DocsClient, orders: str, body: bytes) -> None:
    response = client.put(f"{orders}/n", data=body)

    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_post_refuses_an_array_root_but_put_accepts_one(client: DocsClient, orders: str) -> None:
    post = client.post(orders, json=[1, 2])
    put = client.put(f"{orders}/list", json=[1, {"a": 2}])

    assert post.status_code == 400
    assert put.status_code == 200
    assert client.get(f"{orders}/list", params={"raw": "true"}).json() == [1, {"a": 2}]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "POST"])
def test_an_empty_body_answers_422(client: DocsClient, orders: str, method: str) -> None:
    path = orders if method == "POST" else f"{orders}/n"

    response = client.request(method, path, data=b"")

    assert response.status_code == 422
    assert response.json() == {"description": "Request invalid: payload must not be empty.", "code": 422}


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b'{"a": NaN}', b"\xff\xfe"])
def test_malformed_json_answers_the_frameworks_400(client: DocsClient, orders: str, body: bytes) -> None:
    response = client.put(f"{orders}/n", data=body)

    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": "Unable to process JSON"}


def _nested(depth: int) -> Any:
    document: Any = 1
    for _ in range(depth):
        document = {"a": document}
    return document


def test_depth_64_is_accepted_and_65_refused(client: DocsClient, orders: str) -> None:
    accepted = client.put(f"{orders}/deep", json=_nested(64))
    refused = client.put(f"{orders}/deeper", json=_nested(65))

    assert accepted.status_code == 200
    assert refused.status_code == 400
    assert refused.json() == {"description": "Max depth of 64 exceeded.", "code": 400}


def test_absurdly_deep_json_is_refused_not_crashed(client: DocsClient, orders: str) -> None:
    response = client.put(f"{orders}/n", data=b'{"a":' * 100_000 + b"1" + b"}" * 100_000)

    assert response.status_code == 400
