"""A small client for the Stargate Document API v2, with ``requests``.

It knows HTTP and Stargate's answers, and turns every failure into a domain error; it knows nothing about
orders. Calls are retried under the one policy of ``http.with_retries``: reads and PATCH merges after
any transient failure, PUT and DELETE only where the store cannot have applied them. Version
differences it absorbs: a missing document is 404 (empty or with a body) or 204.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import quote

import requests

from orders_api.errors import InvalidCursor, StoreCredentialsRejected, StoreError
from orders_api.store.http import HttpAnswer, Timeouts, send, with_retries
from orders_api.store.tokens import TokenSource

Document = dict[str, Any]
MAX_PAGE_SIZE = 20


class SearchPage(NamedTuple):
    """Documents of one search page by id, and Stargate's page state for the next one."""

    documents: dict[str, Document]
    page_state: str | None


class StargateDocuments:
    """One collection of one namespace, e.g. ``StargateDocuments(...).get("some-id")``."""

    def __init__(
        self,
        base_url: str,
        namespace: str,
        collection: str,
        tokens: TokenSource,
        session: requests.Session,
        timeout: tuple[float, float],
    ) -> None:
        self._base = base_url.rstrip("/")
        self._namespace = namespace
        self._collection = collection
        self._collection_url = f"{self._base}/v2/namespaces/{namespace}/collections/{collection}"
        self._tokens = tokens
        self._session = session
        self._timeouts = Timeouts(*timeout)

    def get(self, document_id: str) -> Document | None:
        """The document's data, or None when there is no such document (or collection)."""
        response = self._call("GET", self._document_url(document_id), params={"raw": "true"})
        if response.status_code == 204:  # older Stargate v1 builds answer a missing document so
            return None
        if response.status_code == 404:
            self._raise_if_namespace_missing(response)
            return None
        self._expect(response, 200)
        data = self._json(response)
        if not isinstance(data, dict):
            raise StoreError("The store answered a document that is not a JSON object.")
        return data

    def put(self, document_id: str, document: Document) -> None:
        """Create or fully replace the document (creates the collection on first write).

        Sent again only when the store cannot have applied it: a PUT repeated after a lost answer
        would undo whatever another request wrote in between. The caller reads back instead.
        """
        response = self._call("PUT", self._document_url(document_id), repeat_safe=False, json=document)
        if response.status_code == 404:
            self._raise_if_namespace_missing(response)
        self._expect(response, 200, 201)

    def patch(self, document_id: str, fields: Document) -> None:
        """Merge ``fields`` into the document's top level, creating the document if it is missing.

        Repeated after any transient failure, like a read: the order store only ever patches fields
        whose value a repeat cannot change (a new field, or the same value again).
        """
        response = self._call("PATCH", self._document_url(document_id), json=fields)
        if response.status_code == 404:
            self._raise_if_namespace_missing(response)
        self._expect(response, 200, 201)

    def delete(self, document_id: str) -> None:
        """Delete the document; a document or collection that does not exist is already deleted."""
        response = self._call("DELETE", self._document_url(document_id), repeat_safe=False)
        if response.status_code == 404:
            self._raise_if_namespace_missing(response)
            return
        self._expect(response, 200, 204)

    def search(
        self,
        where: dict[str, Any] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        page_state: str | None = None,
    ) -> SearchPage:
        """One page of documents matching ``where``; an absent collection is an empty result."""
        params: dict[str, str] = {"page-size": str(page_size)}
        if where:
            params["where"] = json.dumps(where, separators=(",", ":"))
        if page_state:
            params["page-state"] = page_state
        response = self._call("GET", self._collection_url, params=params)
        if response.status_code == 404:
            self._raise_if_namespace_missing(response)
            return SearchPage({}, None)
        if response.status_code == 400 and page_state:
            raise InvalidCursor("the store did not accept it")
        self._expect(response, 200)
        body = self._json(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise StoreError("The store answered a search without data.")
        next_state = body.get("pageState")
        documents = {key: value for key, value in data.items() if isinstance(value, dict)}
        return SearchPage(documents, next_state if isinstance(next_state, str) and next_state else None)

    def _document_url(self, document_id: str) -> str:
        return f"{self._collection_url}/{quote(document_id, safe='')}"

    def _call(self, method: str, url: str, repeat_safe: bool = True, **kwargs: Any) -> HttpAnswer:
        """Send under the shared retry policy; after a 401, renew the token once and send again."""
        return with_retries(
            lambda timeout: self._attempt(method, url, timeout, **kwargs),
            self._timeouts,
            repeat_safe=repeat_safe,
        )

    def _attempt(self, method: str, url: str, timeout: tuple[float, float], **kwargs: Any) -> HttpAnswer:
        token = self._tokens.token()
        response = self._send(method, url, token, timeout, **kwargs)
        if response.status_code == 401 and self._tokens.renew(token):
            response = self._send(method, url, self._tokens.token(), timeout, **kwargs)
        if response.status_code in (401, 403):
            raise StoreCredentialsRejected("The store rejected the configured token.")
        return response

    def _send(
        self, method: str, url: str, token: str, timeout: tuple[float, float], **kwargs: Any
    ) -> HttpAnswer:
        return send(self._session, method, url, timeout, headers={"X-Cassandra-Token": token}, **kwargs)

    def _raise_if_namespace_missing(self, response: HttpAnswer) -> None:
        # A missing namespace is a deployment mistake, never "not found": reads answer
        # "Namespace X does not exist.", writes "Unknown namespace X, you must create it first."
        if _description(response).lower().startswith(("namespace ", "unknown namespace")):
            raise StoreError(f"The store has no namespace {self._namespace}; create it first.")

    @staticmethod
    def _expect(response: HttpAnswer, *statuses: int) -> None:
        status = response.status_code
        if status in statuses:
            return
        raise StoreError(f"The store answered HTTP {status} unexpectedly.")

    @staticmethod
    def _json(response: HttpAnswer) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise StoreError("The store answered something that is not JSON.") from error


def _description(response: HttpAnswer) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        text = body.get("description") or body.get("message") or ""
        return text if isinstance(text, str) else ""
    return ""
