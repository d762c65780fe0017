"""The Document API client and the order store against a real Document API server over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from orders_api.errors import StoreError
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.document_api_store import DocumentOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import FixedToken, PasswordLogin

from .conftest import TIMEOUT, Backend
from .order_store_contract import OrderStoreContract

pytestmark = pytest.mark.contract


def test_creating_an_existing_namespace_is_fine(backend: Backend) -> None:
    backend.create_namespace()
    backend.create_namespace()


def test_a_put_document_reads_back_with_whole_numbers_as_integers(documents: StargateDocuments) -> None:
    document = {
        "name": "café ☕",
        "count": 3,
        "price": 2.0,
        "nested": {"ok": True, "none": None},
        "tags": ["a"],
    }

    documents.put("doc-1", document)

    assert documents.get("doc-1") == {**document, "price": 2}


def test_put_replaces_the_whole_document(documents: StargateDocuments) -> None:
    documents.put("doc-1", {"a": 1, "b": 2})

    documents.put("doc-1", {"a": 3})

    assert documents.get("doc-1") == {"a": 3}


def test_a_missing_document_or_collection_reads_as_none(documents: StargateDocuments) -> None:
    assert documents.get("never-written") is None
    documents.put("doc-1", {"a": 1})
    assert documents.get("never-written") is None


def test_delete_is_idempotent_even_without_a_collection(documents: StargateDocuments) -> None:
    documents.delete("never-written")
    documents.put("doc-1", {"a": 1})

    documents.delete("doc-1")
    documents.delete("doc-1")

    assert documents.get("doc-1") is None


def test_a_missing_collection_searches_as_empty(documents: StargateDocuments) -> None:
    page = documents.search()

    assert page.documents == {}
    assert page.page_state is None


def _search_all(
    documents: StargateDocuments, where: dict[str, Any] | None = None, page_size: int = 20
) -> list[str]:
    """The ids of every page of a search, in the order served. Stargate promises no order, and its
    pages may come back short or end with an empty page, so only the union of all pages is compared."""
    seen: list[str] = []
    page_state = None
    for _ in range(50):
        page = documents.search(where, page_size=page_size, page_state=page_state)
        assert len(page.documents) <= page_size
        seen.extend(page.documents)
        page_state = page.page_state
        if page_state is None:
            return seen
    raise AssertionError(f"the search did not end after 50 pages; {len(seen)} ids so far")


def test_search_pages_visit_every_document_exactly_once(documents: StargateDocuments) -> None:
    for n in range(45):
        documents.put(f"doc-{n:02}", {"n": n, "even": n % 2 == 0})

    seen = _search_all(documents, page_size=20)

    assert sorted(seen) == [f"doc-{n:02}" for n in range(45)]


def test_search_filters_with_where(documents: StargateDocuments) -> None:
    for n in range(10):
        documents.put(f"doc-{n}", {"n": n, "status": "PAID" if n < 3 else "PENDING"})

    seen = _search_all(documents, {"status": {"$eq": "PAID"}}, page_size=20)

    assert sorted(seen) == ["doc-0", "doc-1", "doc-2"]


def test_a_rejected_fixed_token_is_a_store_error(backend: Backend, collection: str) -> None:
    session = new_session()
    bad = StargateDocuments(
        backend.base_url, backend.namespace, collection, FixedToken(str(uuid.uuid4())), session, TIMEOUT
    )

    with pytest.raises(StoreError) as raised:
        bad.get("doc-1")

    assert "rejected" in str(raised.value)


def test_an_expired_login_token_is_renewed_once(backend: Backend, collection: str) -> None:
    if backend.login is None:
        pytest.skip("this backend is configured with a fixed token, not a login")
    session = new_session()
    tokens = PasswordLogin(backend.auth_url, backend.login, session, TIMEOUT)
    tokens._token = str(uuid.uuid4())  # a token the server never issued, as if it had expired
    documents = StargateDocuments(backend.base_url, backend.namespace, collection, tokens, session, TIMEOUT)

    documents.put("doc-1", {"a": 1})

    assert documents.get("doc-1") == {"a": 1}


def test_a_missing_namespace_is_a_store_error_not_a_missing_document(
    backend: Backend, collection: str
) -> None:
    session = new_session()
    documents = StargateDocuments(
        backend.base_url, "no_such_namespace_x", collection, backend.tokens(session), session, TIMEOUT
    )

    with pytest.raises(StoreError, match="namespace"):
        documents.get("doc-1")
    with pytest.raises(StoreError, match="namespace"):
        documents.put("doc-1", {"a": 1})


class TestDocumentOrderStore(OrderStoreContract):
    """The order store contract on each Document API backend, in a fresh collection per test."""

    @pytest.fixture
    def order_store(self, documents: StargateDocuments) -> DocumentOrderStore:
        return DocumentOrderStore(documents)
