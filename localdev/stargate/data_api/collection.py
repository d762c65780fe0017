"""The Data API's collection-level commands (documents), over the storage engine (no HTTP here).

Documents are stored under ``storage_key(_id)`` (the ``_id``'s canonical JSON) and listed in that
order, so ``find`` pages with "the last key seen" as its cursor: every document is visited exactly
once, also while others insert. Conditional writes (``updateOne``, ``findOneAnd*``, ``deleteOne``,
...) read, test the filter and write inside one storage transaction, so two concurrent updates with
the same precondition can never both match.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from localdev.stargate.core.page_state import decode_page_state, encode_page_state
from localdev.stargate.core.storage import (
    CollectionNotFound,
    CollectionTransaction,
    DocumentExists,
    EmulatorStore,
    StoredDocument,
)
from localdev.stargate.core.values import JsonObject, JsonValue, dump_json, json_equal
from localdev.stargate.data_api.commands import (
    STORAGE_PREFIX,
    CommandResult,
    Fields,
    check_handlers,
    command_fields,
    schema_errors,
)
from localdev.stargate.data_api.documents import (
    ID_FIELD,
    VECTOR_FIELD,
    PathConflict,
    check_document,
    check_id,
    set_at,
    storage_key,
    with_id_first,
)
from localdev.stargate.data_api.exceptions import DataApiError, ErrorCode, field_invalid
from localdev.stargate.data_api.filters import ParsedFilter, parse_filter
from localdev.stargate.data_api.query import Projection, Sort, parse_projection, parse_sort
from localdev.stargate.data_api.schema import (
    MAX_VECTOR_SEARCH_LIMIT,
    SIMILARITY_FIELD,
    CollectionSchema,
    VectorSort,
    lexical_refused,
    vector_floats,
    vectorize_refused,
)
from localdev.stargate.data_api.updates import Update, parse_update

# Documents per page of a find (the Data API answers 20 and a nextPageState, as Astra does).
DATA_API_FIND_PAGE_SIZE = 20
MAX_INSERT_MANY = 100
# updateMany and deleteMany change at most this many documents per call, then answer moreData.
MAX_DOCUMENTS_PER_WRITE = 20
MAX_COUNT = 1000
# A sorted read sorts at most this many matching documents in memory.
MAX_SORTED_CANDIDATES = 10_000


# Helpers -------------------------------------------------------------------------------------------


class _Source(Protocol):
    """Where documents are read from: the store (reads) or a write transaction."""

    def get(self, doc_id: str) -> StoredDocument | None: ...

    def scan(self, *, after_id: str | None = None, batch_size: int = 200) -> Iterator[StoredDocument]: ...


class _StoreReader:
    """A collection of the store, read outside any write transaction."""

    def __init__(self, store: EmulatorStore, namespace: str, collection: str) -> None:
        self._store = store
        self._namespace = namespace
        self._collection = collection

    def get(self, doc_id: str) -> StoredDocument | None:
        return self._store.get(self._namespace, self._collection, doc_id)

    def scan(self, *, after_id: str | None = None, batch_size: int = 200) -> Iterator[StoredDocument]:
        return self._store.scan(self._namespace, self._collection, after_id=after_id, batch_size=batch_size)


Match = tuple[str, JsonObject]  # (storage key, document)


def _matches(source: _Source, parsed: ParsedFilter, *, after_key: str | None = None) -> Iterator[Match]:
    """Matching documents in key order after ``after_key``; a pinned ``_id`` is read directly."""
    if parsed.id_values is not None:
        keys = sorted({storage_key(value) for value in parsed.id_values})
        stored_docs: Iterator[StoredDocument | None] = (
            source.get(key) for key in keys if after_key is None or key > after_key
        )
    else:
        stored_docs = source.scan(after_id=after_key)
    for stored in stored_docs:
        if stored is not None and isinstance(stored.data, dict) and parsed.matches(stored.data):
            yield stored.id, stored.data


AnySort = Sort | VectorSort


def _sort_vector(sort: AnySort | None) -> JsonObject:
    """``includeSortVector``'s answer: the sort's vector, or null without a vector sort."""
    return {"sortVector": list[JsonValue](sort.vector) if isinstance(sort, VectorSort) else None}


def _first(source: _Source, parsed: ParsedFilter, sort: AnySort | None) -> Match | None:
    """The document a single-document command acts on: the first match in sort (else key) order."""
    if sort is None:
        return next(_matches(source, parsed), None)
    ordered = _sorted(source, parsed, sort)
    return ordered[0] if ordered else None


def _sorted(source: _Source, parsed: ParsedFilter, sort: AnySort) -> list[Match]:
    candidates = list(islice(_matches(source, parsed), MAX_SORTED_CANDIDATES))
    return sort.apply(candidates, lambda match: match[1])


@dataclass(frozen=True)
class _Shape:
    """What a read returns of a document: its projection, without ``$vector`` unless the projection
    names it (or ``*``), and with ``$similarity`` when asked for with a vector sort."""

    projection: Projection | None
    vector: bool = False
    similarity: VectorSort | None = None

    @classmethod
    def of(cls, fields: Fields, sort: AnySort | None = None, *, similarity: bool = False) -> _Shape:
        raw = fields.raw("projection")
        named = raw if isinstance(raw, dict) else None
        if named is not None and named.get(VECTOR_FIELD, 0) not in (0, 1):  # False == 0, True == 1
            raise DataApiError(
                ErrorCode.UNSUPPORTED_PROJECTION_PARAM,
                "Unsupported projection parameter: '$vector' must be 1, 0, true or false.",
            )
        vector = named is not None and any(named.get(key) in (1, True) for key in (VECTOR_FIELD, "*"))
        # `$vector` adds the vector to whatever else the projection returns; it includes no other field
        rest = raw if named is None else {key: value for key, value in named.items() if key != VECTOR_FIELD}
        scored = sort if similarity and isinstance(sort, VectorSort) else None
        return cls(parse_projection(rest), vector, scored)

    def apply(self, document: JsonObject | None) -> JsonValue:
        if document is None:
            return None
        shaped = self.projection.apply(document) if self.projection is not None else dict(document)
        shaped.pop(VECTOR_FIELD, None)
        if self.vector and VECTOR_FIELD in document:
            shaped[VECTOR_FIELD] = document[VECTOR_FIELD]
        if self.similarity is not None:
            shaped[SIMILARITY_FIELD] = self.similarity.score(document)
        return shaped


def _after_key(page_state: str | None, where: str) -> tuple[str | None, int]:
    """The last key and count of a ``pageState`` option (``(None, 0)`` without one)."""
    if not page_state:
        return None, 0
    try:
        return decode_page_state(page_state)
    except ValueError:
        raise field_invalid(where, "is not a page state this server issued") from None


@dataclass(frozen=True)
class _Outcome:
    """What a single-document write did."""

    matched: int
    modified: int
    before: JsonObject | None
    after: JsonObject | None
    upserted_id: JsonValue = None
    upserted: bool = False

    def status(self) -> JsonObject:
        status: JsonObject = {"matchedCount": self.matched, "modifiedCount": self.modified}
        if self.upserted:
            status["upsertedId"] = self.upserted_id
        return status


def _already_exists(doc_id: JsonValue) -> DataApiError:
    return DataApiError(
        ErrorCode.DOCUMENT_ALREADY_EXISTS,
        f"Cannot insert the document: a document already exists with given '_id' ({dump_json(doc_id)}).",
        document_ids=[doc_id],
    )


def _checked(raw: JsonValue, schema: CollectionSchema, *, field: str = "document") -> JsonObject:
    """A document to store: valid, with its ``$vector`` (kept as sent: an array, or ``$binary``, or
    null for none) checked against the collection's dimension."""
    if not isinstance(raw, dict):
        return check_document(raw, field=field)
    if "$vectorize" in raw:
        raise vectorize_refused()
    if "$lexical" in raw or "$hybrid" in raw:
        raise lexical_refused()
    document = check_document(raw, field=field)
    if document.get(VECTOR_FIELD) is not None:
        schema.check_vector(vector_floats(document[VECTOR_FIELD]))
    return document


def _document_with_id(document: JsonObject, schema: CollectionSchema) -> JsonObject:
    """A document to insert, with its ``_id`` (the collection's ``defaultId`` when missing or null) first."""
    doc_id = document.get(ID_FIELD)
    return with_id_first(document, schema.new_id() if doc_id is None else check_id(doc_id))


@dataclass
class _InsertAttempt:
    """One document of an ``insertMany``: its ``_id`` (when it has a valid one), and how it went.

    As in the Data API, a document that cannot be stored fails on its own (``ERROR``) instead of
    failing the command; an ordered insert stops at the first failure and leaves the rest ``SKIPPED``.
    """

    doc_id: JsonValue
    document: JsonObject | None
    problem: DataApiError | None = None  # why the document cannot be stored, found before any insert
    error: DataApiError | None = None  # set once run: the problem, or a duplicate _id
    status: str = "SKIPPED"

    @classmethod
    def of(cls, item: JsonValue, schema: CollectionSchema, *, field: str) -> _InsertAttempt:
        """Check ``item``; a bad one becomes an attempt that fails when run."""
        try:
            document = _document_with_id(_checked(item, schema, field=field), schema)
        except DataApiError as error:
            doc_id = _valid_id(item.get(ID_FIELD)) if isinstance(item, dict) else None
            error.document_ids = [doc_id] if doc_id is not None else None
            return cls(doc_id, None, problem=error)
        return cls(document[ID_FIELD], document)

    def run(self, tx: CollectionTransaction) -> None:
        """Insert the document, or record why not."""
        self.error = self.problem
        if self.document is not None:
            try:
                tx.insert(storage_key(self.doc_id), self.document)
            except DocumentExists:
                self.error = _already_exists(self.doc_id)
        self.status = "OK" if self.error is None else "ERROR"


def _valid_id(doc_id: JsonValue) -> JsonValue:
    """``doc_id`` if it is a valid ``_id``, else None."""
    try:
        return check_id(doc_id) if doc_id is not None else None
    except DataApiError:
        return None


# Commands ------------------------------------------------------------------------------------------


class CollectionCommands:
    """``/v1/{keyspace}/{collection}``: documents."""

    def __init__(
        self,
        store: EmulatorStore,
        *,
        page_size: int = DATA_API_FIND_PAGE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Serve the documents of ``store``; ``find`` answers at most ``page_size`` per page."""
        self._store = store
        self._page_size = page_size
        self._clock = clock
        self._handlers: dict[str, Callable[[_Target, Fields], CommandResult]] = {
            "insertOne": self._insert_one,
            "insertMany": self._insert_many,
            "findOne": self._find_one,
            "find": self._find,
            "countDocuments": self._count,
            "estimatedDocumentCount": self._estimate,
            "updateOne": self._update_one,
            "updateMany": self._update_many,
            "findOneAndUpdate": self._find_one_and_update,
            "findOneAndReplace": self._find_one_and_replace,
            "deleteOne": self._delete_one,
            "deleteMany": self._delete_many,
            "findOneAndDelete": self._find_one_and_delete,
        }
        check_handlers("collection", self._handlers)

    def run(self, keyspace: str, collection: str, name: str, payload: JsonObject) -> CommandResult:
        """Run one command on ``keyspace.collection``."""
        target = _Target(self._store, keyspace, STORAGE_PREFIX + collection)
        with schema_errors(keyspace, collection):
            if name in self._handlers:
                target.require()
            fields = command_fields("collection", name, payload)
            return self._handlers[name](target, fields)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # Inserts -------------------------------------------------------------------------------------

    def _insert_one(self, target: _Target, fields: Fields) -> CommandResult:
        document = _document_with_id(_checked(fields.required("document"), target.schema), target.schema)
        doc_id = document[ID_FIELD]
        with target.transaction() as tx:
            try:
                tx.insert(storage_key(doc_id), document)
            except DocumentExists:
                return CommandResult(status={"insertedIds": []}, errors=[_already_exists(doc_id)])
        return CommandResult(status={"insertedIds": [doc_id]})

    def _insert_many(self, target: _Target, fields: Fields) -> CommandResult:
        raw = fields.required("documents")
        if not isinstance(raw, list) or not raw:
            raise field_invalid("insertMany.documents", "must be a non-empty array of documents")
        if len(raw) > MAX_INSERT_MANY:
            raise field_invalid(
                "insertMany.documents", f"holds {len(raw)} documents, at most {MAX_INSERT_MANY}"
            )
        options = fields.options()
        ordered = options.boolean("ordered", False)
        per_document = options.boolean("returnDocumentResponses", False)
        attempts = [
            _InsertAttempt.of(item, target.schema, field=f"documents[{n}]") for n, item in enumerate(raw)
        ]
        with target.transaction() as tx:
            for attempt in attempts:
                attempt.run(tx)
                if ordered and attempt.error is not None:
                    break  # the rest stay SKIPPED
        errors = [attempt.error for attempt in attempts if attempt.error is not None]
        if not per_document:
            inserted: list[JsonValue] = [attempt.doc_id for attempt in attempts if attempt.status == "OK"]
            return CommandResult(status={"insertedIds": inserted}, errors=errors)
        responses: list[JsonValue] = []
        for attempt in attempts:
            response: JsonObject = {} if attempt.doc_id is None else {ID_FIELD: attempt.doc_id}
            response["status"] = attempt.status
            if attempt.error is not None:
                response["errorsIdx"] = errors.index(attempt.error)
            responses.append(response)
        return CommandResult(status={"documentResponses": responses}, errors=errors)

    # Reads ---------------------------------------------------------------------------------------

    def _find_one(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        sort = target.sort(fields)
        options = fields.options()
        shape = _Shape.of(fields, sort, similarity=options.boolean("includeSimilarity", False))
        found = _first(target.reader(), parsed, sort)
        return CommandResult(
            data={"document": shape.apply(found[1] if found else None)},
            status=_sort_vector(sort) if options.boolean("includeSortVector", False) else None,
        )

    def _find(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        sort = target.sort(fields)
        options = fields.options()
        shape = _Shape.of(fields, sort, similarity=options.boolean("includeSimilarity", False))
        status = _sort_vector(sort) if options.boolean("includeSortVector", False) else None
        limit = options.integer("limit", 1)
        skip = options.integer("skip", 0)
        page_state = options.string("pageState") or None
        if isinstance(sort, VectorSort):
            return self._vector_page(target, parsed, sort, shape, status, limit, skip, page_state)
        if sort is not None:
            if page_state is not None:
                raise field_invalid("find.options.pageState", "cannot be used with a sort")
            ordered = _sorted(target.reader(), parsed, sort)[skip or 0 :]
            page = [document for _, document in ordered[: min(limit or self._page_size, self._page_size)]]
            return self._page(page, None, shape, status)
        if skip is not None:
            raise field_invalid("find.options.skip", "can only be used with a sort")
        after_key, returned = _after_key(page_state, "find.options.pageState")
        wanted = self._page_size if limit is None else min(self._page_size, limit - returned)
        matches = _matches(target.reader(), parsed, after_key=after_key)
        chunk = list(islice(matches, max(0, wanted)))
        total = returned + len(chunk)
        more = bool(chunk) and (limit is None or total < limit) and next(matches, None) is not None
        next_state = encode_page_state(chunk[-1][0], total) if more else None
        return self._page([document for _, document in chunk], next_state, shape, status)

    def _vector_page(
        self,
        target: _Target,
        parsed: ParsedFilter,
        sort: VectorSort,
        shape: _Shape,
        status: JsonObject | None,
        limit: int | None,
        skip: int | None,
        page_state: str | None,
    ) -> CommandResult:
        """A page of the documents most similar to the sort vector: at most ``limit`` (1000) in all,
        in pages of the page size, as the Data API pages a vector search."""
        if skip is not None:
            raise field_invalid("find.options.skip", "cannot be used with a vector sort")
        if limit is not None and limit > MAX_VECTOR_SEARCH_LIMIT:
            raise field_invalid(
                "find.options.limit", f"must be at most {MAX_VECTOR_SEARCH_LIMIT} with a vector sort"
            )
        offset = _after_key(page_state, "find.options.pageState")[1]
        ranked = _sorted(target.reader(), parsed, sort)[: limit or MAX_VECTOR_SEARCH_LIMIT]
        chunk = ranked[offset : offset + self._page_size]
        end = offset + len(chunk)
        next_state = encode_page_state(chunk[-1][0], end) if chunk and end < len(ranked) else None
        return self._page([document for _, document in chunk], next_state, shape, status)

    @staticmethod
    def _page(
        documents: list[JsonObject], next_state: str | None, shape: _Shape, status: JsonObject | None
    ) -> CommandResult:
        shaped = [shape.apply(document) for document in documents]
        return CommandResult(data={"documents": shaped, "nextPageState": next_state}, status=status)

    def _count(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        if parsed.is_empty:
            count = target.count()
        else:
            count = sum(1 for _ in islice(_matches(target.reader(), parsed), MAX_COUNT + 1))
        if count > MAX_COUNT:
            return CommandResult(status={"count": MAX_COUNT, "moreData": True})
        return CommandResult(status={"count": count})

    def _estimate(self, target: _Target, _fields: Fields) -> CommandResult:
        return CommandResult(status={"count": target.count()})

    # Updates -------------------------------------------------------------------------------------

    def _upsert_from_update(
        self, parsed: ParsedFilter, update: Update, schema: CollectionSchema
    ) -> Callable[[], JsonObject]:
        def build() -> JsonObject:
            seed: JsonValue = {}
            for path, value in parsed.equalities:
                try:
                    seed = set_at(seed, path, value)
                except PathConflict:
                    continue  # e.g. {"a": 1, "a.b": 2}: nothing sensible to copy
            assert isinstance(seed, dict)
            inserted = _checked(update.apply(seed, inserting=True, now_ms=self._now_ms()), schema)
            return _document_with_id(inserted, schema)

        return build

    def _update_one(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        update = parse_update(fields.required("update"), field="updateOne.update")
        sort = target.sort(fields)
        upsert = fields.options().boolean("upsert", False)
        outcome = self._update_first(target, parsed, sort, update, upsert=upsert)
        return CommandResult(status=outcome.status())

    def _update_first(
        self, target: _Target, parsed: ParsedFilter, sort: AnySort | None, update: Update, *, upsert: bool
    ) -> _Outcome:
        """Apply ``update`` to the first match (or upsert), in one write transaction."""
        now_ms = self._now_ms()
        with target.transaction() as tx:
            return _write_first(
                tx,
                parsed,
                sort,
                lambda before: _checked(update.apply(before, inserting=False, now_ms=now_ms), target.schema),
                self._upsert_from_update(parsed, update, target.schema) if upsert else None,
            )

    def _find_one_and_update(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        update = parse_update(fields.required("update"), field="findOneAndUpdate.update")
        clauses = _FindOneAnd.of(fields, "findOneAndUpdate", target)
        outcome = self._update_first(target, parsed, clauses.sort, update, upsert=clauses.upsert)
        return clauses.answer(outcome)

    def _find_one_and_replace(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        replacement = _checked(fields.required("replacement"), target.schema, field="replacement")
        clauses = _FindOneAnd.of(fields, "findOneAndReplace", target)

        def replace(before: JsonObject) -> JsonObject:
            doc_id = before[ID_FIELD]
            if ID_FIELD in replacement and not json_equal(replacement[ID_FIELD], doc_id):
                raise DataApiError(
                    ErrorCode.DOCUMENT_REPLACE_DIFFERENT_DOCID,
                    f"The replace document and document resolved using filter have different '_id's: "
                    f"{dump_json(replacement[ID_FIELD])} (replace document) vs. {dump_json(doc_id)} "
                    "(document that filter matches).",
                )
            return with_id_first(replacement, doc_id)

        def upserted() -> JsonObject:
            pinned = dict(parsed.equalities).get((ID_FIELD,))
            if ID_FIELD not in replacement and pinned is not None:
                return with_id_first(replacement, check_id(pinned))
            return _document_with_id(replacement, target.schema)

        with target.transaction() as tx:
            outcome = _write_first(tx, parsed, clauses.sort, replace, upserted if clauses.upsert else None)
        return clauses.answer(outcome)

    def _update_many(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        update = parse_update(fields.required("update"), field="updateMany.update")
        options = fields.options()
        upsert = options.boolean("upsert", False)
        page_state = options.string("pageState") or None
        after_key = _after_key(page_state, "updateMany.options.pageState")[0]
        now_ms = self._now_ms()
        matched = modified = 0
        last_key: str | None = None
        more = False
        with target.transaction() as tx:
            matches = _matches(tx, parsed, after_key=after_key)
            for key, before in matches:
                after = _checked(update.apply(before, inserting=False, now_ms=now_ms), target.schema)
                matched += 1
                if not json_equal(before, after):
                    tx.put(key, after)
                    modified += 1
                last_key = key
                if matched == MAX_DOCUMENTS_PER_WRITE:
                    more = next(matches, None) is not None
                    break
            status: JsonObject = {"matchedCount": matched, "modifiedCount": modified}
            if matched == 0 and upsert and page_state is None:
                document = self._upsert_from_update(parsed, update, target.schema)()
                _insert_new(tx, document)
                status["upsertedId"] = document[ID_FIELD]
        if more and last_key is not None:
            status["moreData"] = True
            status["nextPageState"] = encode_page_state(last_key, matched)
        return CommandResult(status=status)

    # Deletes -------------------------------------------------------------------------------------

    def _delete_one(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        sort = target.sort(fields)
        with target.transaction() as tx:
            found = _first(tx, parsed, sort)
            deleted = tx.delete(found[0]) if found else False
        return CommandResult(status={"deletedCount": int(deleted)})

    def _find_one_and_delete(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        sort = target.sort(fields)
        shape = _Shape.of(fields, sort)
        with target.transaction() as tx:
            found = _first(tx, parsed, sort)
            if found:
                tx.delete(found[0])
        return CommandResult(
            data={"document": shape.apply(found[1] if found else None)},
            status={"deletedCount": int(found is not None)},
        )

    def _delete_many(self, target: _Target, fields: Fields) -> CommandResult:
        parsed = target.filter(fields)
        with target.transaction() as tx:
            if parsed.is_empty:
                # As in the Data API, an empty filter truncates the collection and reports -1.
                tx.delete_all()
                return CommandResult(status={"deletedCount": -1})
            matches = _matches(tx, parsed)
            keys = [key for key, _ in islice(matches, MAX_DOCUMENTS_PER_WRITE)]
            more = len(keys) == MAX_DOCUMENTS_PER_WRITE and next(matches, None) is not None
            for key in keys:
                tx.delete(key)
        status: JsonObject = {"deletedCount": len(keys)}
        if more:
            status["moreData"] = True
        return CommandResult(status=status)


@dataclass(frozen=True)
class _FindOneAnd:
    """The clauses ``findOneAndUpdate`` and ``findOneAndReplace`` share, and how they answer."""

    sort: AnySort | None
    shape: _Shape
    upsert: bool
    return_after: bool

    @classmethod
    def of(cls, fields: Fields, command: str, target: _Target) -> _FindOneAnd:
        """Read ``sort``, ``projection``, ``options.upsert`` and ``options.returnDocument``."""
        sort = target.sort(fields)
        shape = _Shape.of(fields, sort)
        options = fields.options()
        upsert = options.boolean("upsert", False)
        returned = options.string("returnDocument") or "before"
        if returned not in ("before", "after"):
            raise field_invalid(f"{command}.options.returnDocument", "must be 'before' or 'after'")
        return cls(sort, shape, upsert, returned == "after")

    def answer(self, outcome: _Outcome) -> CommandResult:
        """The document before or after the write (projected), and the counts."""
        document = outcome.after if self.return_after else outcome.before
        return CommandResult(data={"document": self.shape.apply(document)}, status=outcome.status())


def _insert_new(tx: CollectionTransaction, document: JsonObject) -> None:
    try:
        tx.insert(storage_key(document[ID_FIELD]), document)
    except DocumentExists:
        raise _already_exists(document[ID_FIELD]) from None


def _write_first(
    tx: CollectionTransaction,
    parsed: ParsedFilter,
    sort: AnySort | None,
    change: Callable[[JsonObject], JsonObject],
    upsert: Callable[[], JsonObject] | None,
) -> _Outcome:
    """Change the first matching document, or insert ``upsert()`` when none matches (if given).

    This runs inside the caller's write transaction: the filter is tested against the document
    as it is at the moment of the write, which makes a precondition in the filter a compare-and-set.
    """
    found = _first(tx, parsed, sort)
    if found is not None:
        key, before = found
        after = change(before)
        modified = not json_equal(before, after)
        if modified:
            tx.put(key, after)
        return _Outcome(1, int(modified), before, after)
    if upsert is None:
        return _Outcome(0, 0, None, None)
    document = upsert()
    _insert_new(tx, document)
    return _Outcome(0, 0, None, document, upserted_id=document[ID_FIELD], upserted=True)


class _Target:
    """One Data API collection: its keyspace and its name in the storage engine."""

    def __init__(self, store: EmulatorStore, keyspace: str, storage_name: str) -> None:
        self._store = store
        self.keyspace = keyspace
        self.storage_name = storage_name

    def require(self) -> None:
        """Raise NamespaceNotFound / CollectionNotFound unless the collection exists."""
        if not self._store.collection_exists(self.keyspace, self.storage_name):
            raise CollectionNotFound(self.keyspace, self.storage_name)

    @functools.cached_property
    def schema(self) -> CollectionSchema:
        """What the collection was created with."""
        return CollectionSchema.of(self._store.collection_options(self.keyspace, self.storage_name))

    def filter(self, fields: Fields) -> ParsedFilter:
        """The command's ``filter``, on indexed paths only."""
        parsed = parse_filter(fields.raw("filter"))
        self.schema.check_filter_paths(parsed.paths)
        return parsed

    def sort(self, fields: Fields) -> AnySort | None:
        """The command's ``sort``: on indexed paths, or by a vector of the collection's dimension."""
        sort = parse_sort(fields.raw("sort"))
        if isinstance(sort, VectorSort):
            return self.schema.vector_sort(sort)
        if sort is not None:
            self.schema.check_sort_paths([".".join(path) for path, _ in sort.keys])
        return sort

    def reader(self) -> _StoreReader:
        """Reads outside a write transaction."""
        return _StoreReader(self._store, self.keyspace, self.storage_name)

    def count(self) -> int:
        """How many documents the collection holds."""
        return self._store.count(self.keyspace, self.storage_name)

    @contextmanager
    def transaction(self) -> Iterator[CollectionTransaction]:
        """A write transaction on the collection."""
        with self._store.transaction(self.keyspace, self.storage_name) as tx:
            yield tx
