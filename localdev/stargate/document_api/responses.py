"""The Stargate Document API v2 dialect: routes under ``/v2`` translated into storage-engine calls.

Status codes and error bodies follow Stargate v1 (the developer-mode image): for instance a missing
document is a 404 with no body. The contract is written down in ``docs/stores/document-api.md``; the
route table ``ROUTES`` is also what ``COVERAGE.md`` lists.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from localdev.stargate.core.auth import TOKEN_HEADER, TokenAuthority
from localdev.stargate.core.filters import Filter
from localdev.stargate.core.page_state import decode_page_state, encode_page_state
from localdev.stargate.core.routing import Handler, Request, Response, Route, empty_response, json_response
from localdev.stargate.core.storage import (
    CollectionNotFound,
    EmulatorStore,
    NamespaceNotFound,
    StoredDocument,
)
from localdev.stargate.core.values import JsonObject, JsonValue
from localdev.stargate.document_api.documents import (
    check_root,
    document_from_body,
    normalize,
    parse_write_body,
    patch_from_body,
)
from localdev.stargate.document_api.exceptions import (
    collection_not_found,
    docs_error,
    document_not_found,
    namespace_not_found,
    unauthorized,
    unknown_namespace_on_write,
)
from localdev.stargate.document_api.filters import parse_where
from localdev.stargate.document_api.paths import (
    Path,
    delete_at,
    get_at,
    parse_dotted,
    parse_segments,
    project,
    set_at,
)

# Stargate's default page-size: documents per page when a request gives none.
DOCUMENT_API_DEFAULT_PAGE_SIZE = 3
MAX_PAGE_SIZE = 20
_COLLECTION_NAME = re.compile(r"[a-zA-Z0-9_]+")
_NAMESPACE_NAME = re.compile(r"[a-zA-Z0-9_]{1,48}")
_INTEGER = re.compile(r"[+-]?\d+")
# Scanning for a sparse filter reads this many rows per SQLite query.
_FILTERED_SCAN_BATCH = 200


@contextmanager
def _reading(namespace: str, collection: str) -> Iterator[None]:
    """Map missing namespace/collection to the 404s a read answers."""
    try:
        yield
    except NamespaceNotFound:
        raise namespace_not_found(namespace) from None
    except CollectionNotFound:
        raise collection_not_found(collection) from None


@contextmanager
def _writing(namespace: str) -> Iterator[None]:
    """Map a missing namespace to the 404 a write answers (writes create collections themselves)."""
    try:
        yield
    except NamespaceNotFound:
        raise unknown_namespace_on_write(namespace) from None


def _check_collection_name(name: str) -> None:
    if not _COLLECTION_NAME.fullmatch(name):
        raise docs_error(
            400,
            f"Could not create collection {name}, it has invalid characters. "
            "Valid characters are alphanumeric and underscores.",
        )


def _page_size(request: Request) -> int:
    raw = request.query.get("page-size", "").strip()
    if not raw:
        return DOCUMENT_API_DEFAULT_PAGE_SIZE
    if not _INTEGER.fullmatch(raw):
        raise docs_error(400, f"Request invalid: page-size must be an integer, got {raw}.")
    size = int(raw)
    if size < 1:
        raise docs_error(400, "Request invalid: the minimum number of documents to return is one.")
    if size > MAX_PAGE_SIZE:
        raise docs_error(400, f"Request invalid: the max number of documents to return is {MAX_PAGE_SIZE}.")
    return size


def _after_id(request: Request) -> str | None:
    """The id a ``page-state`` points after; 400 for a state this server did not issue."""
    page_state = request.query.get("page-state", "").strip()
    if not page_state:
        return None
    try:
        return decode_page_state(page_state)[0]
    except ValueError:
        raise docs_error(400, "Request invalid: the page-state is not one this server issued.") from None


def _fields(request: Request) -> list[Path] | None:
    raw = request.query.get("fields", "").strip()
    if not raw:
        return None
    try:
        fields: JsonValue = json.loads(raw)
    except ValueError:
        raise docs_error(
            400, "The `fields` parameter expects a valid JSON array containing field names."
        ) from None
    if not isinstance(fields, list) or not all(isinstance(field, str) and field for field in fields):
        raise docs_error(400, "The `fields` must be a JSON array and each field must be a non-empty string.")
    return [parse_dotted(field) for field in fields if isinstance(field, str)]


def _where(request: Request) -> Filter | None:
    raw = request.query.get("where", "").strip()
    return parse_where(raw) if raw else None


def _sub_path(params: Mapping[str, str]) -> Path:
    raw = params.get("path", "")
    return parse_segments([part for part in raw.split("/") if part]) if raw else ()


_COLLECTIONS = "/v2/namespaces/{ns}/collections"
_DOCUMENT = {
    "GET": "get_document",
    "PUT": "put_document",
    "PATCH": "patch_document",
    "DELETE": "delete_document",
}
# Path pattern -> method -> the DocumentApi method that answers it, tried in this order (the coverage
# table in COVERAGE.md is printed from it).
ROUTES: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("/v2/schemas/namespaces", {"GET": "list_namespaces", "POST": "create_namespace"}),
    ("/v2/schemas/namespaces/{ns}", {"GET": "get_namespace", "DELETE": "delete_namespace"}),
    (_COLLECTIONS, {"GET": "list_collections", "POST": "create_collection"}),
    # Before the document route, so that POST .../batch is a batch and GET .../batch a document.
    (_COLLECTIONS + "/{coll}/batch", {"POST": "write_batch"}),
    (_COLLECTIONS + "/{coll}", {"GET": "search", "POST": "create_document", "DELETE": "delete_collection"}),
    (_COLLECTIONS + "/{coll}/{doc_id}", _DOCUMENT),
    (_COLLECTIONS + "/{coll}/{doc_id}/{path*}", _DOCUMENT),
)


class DocumentApi:
    """Handlers for namespaces, collections and documents under ``/v2``."""

    def __init__(
        self, store: EmulatorStore, authority: TokenAuthority, *, clock: Callable[[], float] = time.time
    ) -> None:
        """Serve ``store``, letting in only requests ``authority`` accepts."""
        self._store = store
        self._authority = authority
        self._clock = clock

    def routes(self) -> list[Route]:
        """Every ``/v2`` route of ``ROUTES``, each guarded by the token check."""
        return [
            Route(pattern, {method: self._guarded(getattr(self, name)) for method, name in handlers.items()})
            for pattern, handlers in ROUTES
        ]

    def _guarded(self, handler: Handler) -> Handler:
        def guarded(request: Request, params: Mapping[str, str]) -> Response:
            reason = self._authority.rejection((request.header(TOKEN_HEADER) or "").strip())
            if reason is not None:
                raise unauthorized(reason)
            return handler(request, params)

        return guarded

    def _expiry(self, request: Request) -> float | None:
        raw = request.query.get("ttl")
        if raw is None:
            return None
        if not _INTEGER.fullmatch(raw.strip()) or int(raw) < 1:
            raise docs_error(
                400, f"Request invalid: ttl must be a whole number of seconds of at least 1, got {raw}."
            )
        return self._clock() + int(raw)

    # Namespaces -----------------------------------------------------------------------------------

    def list_namespaces(self, request: Request, _params: Mapping[str, str]) -> Response:
        """200 with every namespace."""
        listed: list[JsonValue] = [{"name": name} for name in self._store.list_namespaces()]
        return json_response(200, listed if request.flag("raw") else {"data": listed})

    def create_namespace(self, request: Request, _params: Mapping[str, str]) -> Response:
        """201 ``{"name": ...}``, also when it already exists (v1 never answers 409)."""
        payload = parse_write_body(request.body)
        name = payload.get("name") if isinstance(payload, dict) else None
        if not isinstance(name, str) or not name:
            raise docs_error(400, "Request invalid: `name` must be provided.")
        if not _NAMESPACE_NAME.fullmatch(name):
            raise docs_error(
                400, f"Request invalid: namespace name {name} must be 1 to 48 letters, digits or underscores."
            )
        assert isinstance(payload, dict)
        options: JsonObject = {key: value for key, value in payload.items() if key != "name"}
        self._store.create_namespace(name, options)
        return json_response(201, {"name": name})

    def get_namespace(self, request: Request, params: Mapping[str, str]) -> Response:
        """200 with the namespace, 404 when it does not exist."""
        namespace = params["ns"]
        if not self._store.namespace_exists(namespace):
            raise docs_error(404, "unable to describe namespace")
        described: JsonObject = {"name": namespace}
        return json_response(200, described if request.flag("raw") else {"data": described})

    def delete_namespace(self, _request: Request, params: Mapping[str, str]) -> Response:
        """204, whether or not it existed."""
        self._store.drop_namespace(params["ns"])
        return empty_response(204)

    # Collections ----------------------------------------------------------------------------------

    def list_collections(self, request: Request, params: Mapping[str, str]) -> Response:
        """200 with the collections of a namespace."""
        namespace = params["ns"]
        with _reading(namespace, ""):
            names = self._store.list_collections(namespace)
        # The Data API keeps its collections in the same namespaces, under names this API cannot spell.
        listed: list[JsonValue] = [
            {"name": name, "upgradeAvailable": False} for name in names if _COLLECTION_NAME.fullmatch(name)
        ]
        return json_response(200, listed if request.flag("raw") else {"data": listed})

    def create_collection(self, request: Request, params: Mapping[str, str]) -> Response:
        """201 on creation, 409 when it exists."""
        namespace = params["ns"]
        payload = parse_write_body(request.body)
        name = payload.get("name") if isinstance(payload, dict) else None
        if not isinstance(name, str) or not name:
            raise docs_error(400, "Request invalid: `name` must be provided.")
        _check_collection_name(name)
        with _writing(namespace):
            created = self._store.create_collection(namespace, name)
        if not created:
            raise docs_error(409, f"Create failed: collection {name} already exists.")
        return empty_response(201)

    def delete_collection(self, _request: Request, params: Mapping[str, str]) -> Response:
        """204, or 404 when the collection does not exist."""
        namespace, collection = params["ns"], params["coll"]
        _check_collection_name(collection)
        with _reading(namespace, collection):
            if not self._store.drop_collection(namespace, collection):
                raise CollectionNotFound(namespace, collection)
        return empty_response(204)

    # Documents ------------------------------------------------------------------------------------

    def search(self, request: Request, params: Mapping[str, str]) -> Response:
        """One page of the documents matching ``where``, in document-id order.

        The page state is the last id returned, so paging visits every matching document exactly
        once even while others insert. ``pageState`` is left out when nothing more matches.
        """
        namespace, collection = params["ns"], params["coll"]
        _check_collection_name(collection)
        page_size = _page_size(request)
        after_id = _after_id(request)
        where = _where(request)
        fields = _fields(request)
        # Without a filter, one more row than the page tells whether another page exists.
        batch_size = page_size + 1 if where is None else _FILTERED_SCAN_BATCH
        with _reading(namespace, collection):
            documents = self._store.scan(namespace, collection, after_id=after_id, batch_size=batch_size)
        page: list[StoredDocument] = []
        more = False
        for document in documents:
            if where is not None and not where.matches(document.data):
                continue
            if len(page) == page_size:
                more = True
                break
            page.append(document)
        data: JsonObject = {
            document.id: project(document.data, fields) if fields else document.data for document in page
        }
        if request.flag("raw"):
            return json_response(200, data)
        if more:
            return json_response(200, {"pageState": encode_page_state(page[-1].id), "data": data})
        return json_response(200, {"data": data})

    def get_document(self, request: Request, params: Mapping[str, str]) -> Response:
        """200 with the document (or the value at a sub-path); 404 without a body when missing."""
        namespace, collection, doc_id = params["ns"], params["coll"], params["doc_id"]
        _check_collection_name(collection)
        path = _sub_path(params)
        fields = _fields(request)
        with _reading(namespace, collection):
            stored = self._store.get(namespace, collection, doc_id)
        if stored is None:
            raise document_not_found()
        found, data = get_at(stored.data, path)
        if not found:
            raise document_not_found()
        if fields:
            data = project(data, fields)
        return json_response(200, data if request.flag("raw") else {"documentId": doc_id, "data": data})

    def create_document(self, request: Request, params: Mapping[str, str]) -> Response:
        """201 with a new random id and a ``Location`` header."""
        namespace, collection = params["ns"], params["coll"]
        _check_collection_name(collection)
        document = document_from_body(request.body, allow_array=False)
        expires_at = self._expiry(request)
        doc_id = str(uuid.uuid4())
        with _writing(namespace):
            self._store.put(
                namespace, collection, doc_id, document, expires_at=expires_at, create_collection=True
            )
        location = f"{request.path.rstrip('/')}/{doc_id}"
        if request.host:
            location = f"http://{request.host}{location}"
        return json_response(201, {"documentId": doc_id}, {"Location": location})

    def put_document(self, request: Request, params: Mapping[str, str]) -> Response:
        """200: create or replace the document, or only the value at a sub-path."""
        namespace, collection, doc_id = params["ns"], params["coll"], params["doc_id"]
        _check_collection_name(collection)
        path = _sub_path(params)
        payload = document_from_body(request.body, allow_array=True)
        with _writing(namespace):
            if path:
                self._store.update(
                    namespace,
                    collection,
                    doc_id,
                    lambda current: normalize(set_at(current.data if current else None, path, payload)),
                    create_collection=True,
                )
            else:
                expires_at = self._expiry(request)
                self._store.put(
                    namespace, collection, doc_id, payload, expires_at=expires_at, create_collection=True
                )
        return json_response(200, {"documentId": doc_id})

    def patch_document(self, request: Request, params: Mapping[str, str]) -> Response:
        """200: merge the body's top-level keys into the document (or the object at a sub-path)."""
        namespace, collection, doc_id = params["ns"], params["coll"], params["doc_id"]
        _check_collection_name(collection)
        path = _sub_path(params)
        patch = patch_from_body(request.body)

        def merge(current: StoredDocument | None) -> JsonValue:
            root = current.data if current else None
            _, target = get_at(root, path)
            # Arrays and sub-objects in the patch replace what was there; they are not merged.
            merged: JsonObject = {**target, **patch} if isinstance(target, dict) else dict(patch)
            return normalize(set_at(root, path, merged)) if path else merged

        with _writing(namespace):
            self._store.update(namespace, collection, doc_id, merge, create_collection=True)
        return json_response(200, {"documentId": doc_id})

    def delete_document(self, _request: Request, params: Mapping[str, str]) -> Response:
        """204 whether or not the document (or the value at a sub-path) existed."""
        namespace, collection, doc_id = params["ns"], params["coll"], params["doc_id"]
        _check_collection_name(collection)
        path = _sub_path(params)
        with _reading(namespace, collection):
            if path:
                self._store.update(
                    namespace,
                    collection,
                    doc_id,
                    lambda current: delete_at(current.data, path) if current else None,
                )
            else:
                self._store.delete(namespace, collection, doc_id)
        return empty_response(204)

    def write_batch(self, request: Request, params: Mapping[str, str]) -> Response:
        """202 with the ids written; ``id-path`` names the field holding each document's id."""
        namespace, collection = params["ns"], params["coll"]
        _check_collection_name(collection)
        payload = parse_write_body(request.body)
        if not isinstance(payload, list) or not payload:
            raise docs_error(400, "Request invalid: a batch must be a non-empty JSON array of documents.")
        raw_id_path = request.query.get("id-path", "").strip()
        id_path = parse_dotted(raw_id_path) if raw_id_path else None
        expires_at = self._expiry(request)
        documents: list[tuple[str, JsonValue]] = []
        for item in payload:
            document = normalize(check_root(item, allow_array=False))
            documents.append((self._batch_id(document, id_path, raw_id_path), document))
        with _writing(namespace):
            self._store.put_many(
                namespace, collection, documents, expires_at=expires_at, create_collection=True
            )
        return json_response(202, {"documentIds": [doc_id for doc_id, _ in documents]})

    @staticmethod
    def _batch_id(document: JsonValue, id_path: Path | None, raw_id_path: str) -> str:
        if id_path is None:
            return str(uuid.uuid4())
        found, value = get_at(document, id_path)
        if isinstance(value, str) and value:
            return value
        if found and isinstance(value, int | float) and not isinstance(value, bool):
            return json.dumps(value)
        raise docs_error(
            400,
            f"Json Document {json.dumps(document)} requires a String value at the path {raw_id_path}, "
            f"found {json.dumps(value) if found else 'nothing'}.",
        )
