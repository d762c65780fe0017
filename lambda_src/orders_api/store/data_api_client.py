"""A small client for one collection of the Astra DB Data API (JSON commands over HTTP), with ``requests``.

It knows the command envelope, the HTTP and ``errors[]`` failures and the error codes (old and new
names), and turns each into a domain error; it knows nothing about orders. Every command this project
sends is safe to repeat (inserts carry their own ``_id``; updates are compare-and-set), so transient
failures are retried under the one policy of ``http.with_retries``. An answer is believed only for
what it confirms: an insert counts when ``status.insertedIds`` names the id, a ``findOne`` needs
``data.document``, an update or delete its counts; anything else is a store failure, never "not found".
"""

from __future__ import annotations

from typing import Any, NamedTuple

import requests

from orders_api.errors import (
    ConcurrentUpdate,
    OrdersError,
    StoreCredentialsRejected,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
)
from orders_api.store.http import HttpAnswer, Timeouts, send, with_retries
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


class DataApiError(StoreError):
    """The Data API answered ``errors[]``; ``code`` is the first error's ``errorCode``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CollectionMissing(DataApiError):
    """The collection does not exist (yet)."""


class FoundPage(NamedTuple):
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
        self._timeouts = Timeouts(*timeout)

    def insert_one(self, document: Document) -> bool:
        """Insert ``document`` (with its ``_id``); False when a document with that id exists."""
        try:
            answer = self._command(self._collection_url, {"insertOne": {"document": document}})
        except DataApiError as error:
            if error.code == DUPLICATE_ID:
                return False
            raise
        inserted = _section(answer, "status").get("insertedIds")
        if not isinstance(inserted, list) or document.get("_id") not in inserted:
            raise StoreError("The store answered an insert without confirming the inserted id.")
        return True

    def find_one(self, filter: Document) -> Document | None:
        """The first document matching ``filter``, or None (also when the collection is missing)."""
        try:
            answer = self._command(self._collection_url, {"findOne": {"filter": filter}})
        except CollectionMissing:
            return None
        data = _section(answer, "data")
        if "document" not in data:
            raise StoreError("The store answered a findOne without data.document.")
        document = data["document"]
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
        data = _section(answer, "data")
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
        return _count(answer, "matchedCount")

    def delete_one(self, filter: Document) -> int:
        """Delete one document matching ``filter``; the number deleted (0 or 1)."""
        try:
            answer = self._command(self._collection_url, {"deleteOne": {"filter": filter}})
        except CollectionMissing:
            return 0
        return _count(answer, "deletedCount")

    def create_collection(self) -> None:
        """Create the collection; creating an existing one with the same options succeeds."""
        answer = self._command(self._keyspace_url, {"createCollection": {"name": self._collection}})
        if _section(answer, "status").get("ok") != 1:
            raise StoreError("The store answered a createCollection without status.ok.")

    def _command(self, url: str, command: Document) -> Document:
        """Send one command under the shared retry policy; raise a domain error for any failure."""
        return with_retries(lambda timeout: self._attempt(url, command, timeout), self._timeouts)

    def _attempt(self, url: str, command: Document, timeout: tuple[float, float]) -> Document:
        token = self._tokens.token()
        response = self._send(url, command, token, timeout)
        if response.status_code == 401 and self._tokens.renew(token):
            response = self._send(url, command, self._tokens.token(), timeout)
        status = response.status_code
        if status in (401, 403):
            raise StoreCredentialsRejected("The store rejected the configured token.")
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
            raise self._error(errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {})
        return answer

    def _send(self, url: str, command: Document, token: str, timeout: tuple[float, float]) -> HttpAnswer:
        return send(self._session, "POST", url, timeout, json=command, headers={"Token": token})

    def _error(self, error: Document) -> OrdersError:
        code = "".join(c for c in str(error.get("errorCode") or "UNKNOWN") if c.isalnum() or c == "_")[:64]
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


def _section(answer: Document, name: str) -> Document:
    """``answer[name]`` when it is an object, else an empty one (whose absence the caller judges)."""
    section = answer.get(name)
    return section if isinstance(section, dict) else {}


def _count(answer: Document, name: str) -> int:
    count = _section(answer, "status").get(name)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise StoreError(f"The store answered without status.{name}.")
    return count
