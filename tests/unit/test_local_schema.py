"""Creating a namespace for local development and tests (localdev.schema), against recorded answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from responses import matchers

from localdev import schema
from orders_api.errors import StoreError, StoreUnavailable
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken

BASE_URL = "http://stargate.test:8082"
NAMESPACE = "shop"
NAMESPACES_URL = f"{BASE_URL}/v2/schemas/namespaces"


def stargate_error(description: str, code: int) -> dict[str, Any]:
    """The Document API's error body."""
    return {"description": description, "code": code}


def create_namespace() -> None:
    schema.create_namespace(BASE_URL + "/", NAMESPACE, FixedToken("token"), new_session(), (1.0, 2.0))


@pytest.fixture
def stargate() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(201, {"name": NAMESPACE}, id="v1-201-created-or-existing"),
        pytest.param(409, stargate_error(f"Namespace {NAMESPACE} already exists", 409), id="v2-409-existing"),
    ],
)
def test_create_namespace_accepts_created_and_already_existing(
    stargate: responses.RequestsMock, status: int, body: dict[str, Any]
) -> None:
    # Given Stargate answers the namespace creation
    named = matchers.json_params_matcher({"name": NAMESPACE})
    stargate.post(NAMESPACES_URL, json=body, status=status, match=[named])

    # When the namespace is created
    # Then there is no error
    create_namespace()


def test_create_namespace_failure_is_a_store_error(stargate: responses.RequestsMock) -> None:
    # Given Stargate fails
    stargate.post(NAMESPACES_URL, json=stargate_error("boom", 500), status=500)

    # When the namespace is created
    # Then the caller is told
    with pytest.raises(StoreError):
        create_namespace()


def test_create_namespace_is_retried_like_every_call(stargate: responses.RequestsMock) -> None:
    # Given Stargate is unavailable
    stargate.post(NAMESPACES_URL, status=503)

    # When the namespace is created
    with pytest.raises(StoreUnavailable):
        create_namespace()

    # Then it was attempted three times: creating a namespace that exists is harmless (201 or 409)
    assert len(stargate.calls) == 3
