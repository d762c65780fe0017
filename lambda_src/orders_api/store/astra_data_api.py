"""A small client for one collection of the Astra DB Data API (JSON commands over HTTP), with ``requests``.

It knows the command envelope, the HTTP and ``errors[]`` failures and the error codes (old and new
names), and turns each into a domain error; it knows nothing about orders. Every command this project
sends is safe to repeat (inserts carry their own ``_id``; updates are compare-and-set), so transient
failures are retried here with back-off, since urllib3 does not retry a POST.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from orders_api.errors import ConcurrentUpdate, OrdersError, StoreError, StoreTimeout, StoreUnavailable
from orders_api.store.tokens import TokenSource

Document = dict[str, Any]

# Error codes, grouped by what they mean for us; the server renamed several in 2026.
MISSING_COLLECTION = frozenset({"COLLECTION_NOT_EXIST", "UNKNOWN_COLLECTION_OR_TABLE"})
MISSING_KEYSPACE = frozenset({"KEYSPACE_DOES_NOT_EXIST", "UNKNOWN_KEYSPACE"})
DUPLICATE_ID = "DOCUMENT_ALREADY_EXISTS"
TIMEOUTS = frozenset(
    {"SERVER_READ_FAILED", "SERVER_DRIVER_TIMEOUT", "TIMEOUT_READING_DATA", "TIMEOUT_WRITING_DATA"}
)
UNAVAILABLE = frozenset({"UNAVAILABLE_DATABASE"})
LOST_RACE = frozenset({"CONCURRENCY_FAILURE", "FAILED_CONCURRENT_OPERATIONS"})

RETRIES = 2
BACKOFF_SECONDS = 0.2


class DataApiError(StoreError):
    """The Data API answered ``errors[]``; ``code`` is the first error's ``errorCode``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CollectionMissing(DataApiError):
    """The collection does not exist (yet)."""


@dataclass(frozen=True)
class FoundPage:
    """One server page of ``find`` and the state of the next (None at the end)."""

    documents: list[Document]
    next_page_state: str | None


class DataApiCollection:
    """One collection of one keyspace, e.g. ``DataApiCollection(...).find_one({"_id": "o1"})``."""

    def __init__(
        self,
        base_url: str,
        keyspace: str,
        collection: str,
        tokens: TokenSource,
        session: requests.Session,
        timeout: tuple[float, float],
    ) -> None:
        root = base_url.rstrip("/")
        self._keyspace = keyspace
        self._collection = collection
        self._keyspace_url = f"{root}/v1/{keyspace}"
        self._collection_url = f"{root}/v1/{keyspace}/{collection}"
        self._tokens = tokens
        self._session = session
        self._timeout = timeout

    def insert_one(self, document: Document) -> bool:
        """Insert ``document`` (with its ``_id``); False when a document with that id exists."""
        try:
            self._command(self._collection_url, {"insertOne": {"document": document}})
        except DataApiError as error:
            if error.code == DUPLICATE_ID:
                return False
            raise
        return True

    def find_one(self, filter: Document) -> Document | None:
        """The first document matching ``filter``, or None (also when the collection is missing)."""
        try:
            answer = self._command(self._collection_url, {"findOne": {"filter": filter}})
        except CollectionMissing:
            return None
        document = answer.get("data", {}).get("document")
        if document is not None and not isinstance(document, dict):
            raise StoreError("The store answered a document that is not a JSON object.")
        return document

    def find(self, filter: Document, page_state: str | None = None) -> FoundPage:
        """One server-sized page of documents matching ``filter``."""
        options = {"pageState": page_state} if page_state else {}
        try:
            answer = self._command(self._collection_url, {"find": {"filter": filter, "options": options}})
        except CollectionMissing:
            return FoundPage([], None)
        data = answer.get("data", {})
        documents = data.get("documents")
        if not isinstance(documents, list):
            raise StoreError("The store answered a find without documents.")
        next_state = data.get("nextPageState")
        return FoundPage(
            [d for d in documents if isinstance(d, dict)],
            next_state if isinstance(next_state, str) and next_state else None,
        )

    def update_one(self, filter: Document, update: Document) -> int:
        """Apply ``update`` to one document matching ``filter``; the number matched (0 or 1)."""
        try:
            answer = self._command(self._collection_url, {"updateOne": {"filter": filter, "update": update}})
        except CollectionMissing:
            return 0
        return int(answer.get("status", {}).get("matchedCount", 0))

    def delete_one(self, filter: Document) -> int:
        """Delete one document matching ``filter``; the number deleted (0 or 1)."""
        try:
            answer = self._command(self._collection_url, {"deleteOne": {"filter": filter}})
        except CollectionMissing:
            return 0
        return int(answer.get("status", {}).get("deletedCount", 0))

    def create_collection(self) -> None:
        """Create the collection; creating an existing one with the same options succeeds."""
        self._command(self._keyspace_url, {"createCollection": {"name": self._collection}})

    def _command(self, url: str, command: Document) -> Document:
        """Send one command; retry transient failures; raise a domain error for any failure."""
        for attempt in range(RETRIES + 1):
            try:
                return self._attempt(url, command)
            except (StoreUnavailable, StoreTimeout):
                if attempt == RETRIES:
                    raise
                time.sleep(BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, url: str, command: Document) -> Document:
        token = self._tokens.token()
        response = self._send(url, command, token)
        if response.status_code == 401 and self._tokens.renew(token):
            response = self._send(url, command, self._tokens.token())
        status = response.status_code
        if status in (401, 403):
            raise StoreError("The store rejected the configured token.")
        if status == 504:
            raise StoreTimeout("The store did not answer in time.")
        if status in (429, 502, 503):
            raise StoreUnavailable("The store is unavailable; try again shortly.")
        if status != 200:
            raise StoreError(f"The store answered HTTP {status} unexpectedly; check the Data API URL.")
        try:
            answer = response.json()
        except ValueError as error:
            raise StoreError("The store answered something that is not JSON.") from error
        if not isinstance(answer, dict):
            raise StoreError("The store answered something that is not a JSON object.")
        errors = answer.get("errors")
        if errors:
            raise self._error(errors[0] if isinstance(errors[0], dict) else {})
        return answer

    def _send(self, url: str, command: Document, token: str) -> requests.Response:
        try:
            return self._session.post(url, json=command, headers={"Token": token}, timeout=self._timeout)
        except requests.Timeout as error:
            raise StoreTimeout("The store did not answer in time.") from error
        except requests.RequestException as error:
            raise StoreUnavailable("The store cannot be reached.") from error

    def _error(self, error: Document) -> OrdersError:
        code = str(error.get("errorCode") or "UNKNOWN")
        if code in MISSING_COLLECTION:
            return CollectionMissing(code, f"The store has no collection {self._collection}.")
        if code in MISSING_KEYSPACE:
            return DataApiError(code, f"The store has no keyspace {self._keyspace}; create it first.")
        if code in TIMEOUTS:
            return StoreTimeout(f"The store timed out ({code}).")
        if code in UNAVAILABLE:
            return StoreUnavailable(f"The store is unavailable ({code}).")
        if code in LOST_RACE:
            return ConcurrentUpdate()
        return DataApiError(code, f"The store refused the command ({code}).")
