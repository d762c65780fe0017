"""The emulator's storage engine: namespaces, collections and JSON documents keyed by id, in SQLite.

The engine knows nothing about HTTP or about either API dialect (the Stargate Document API and the
Astra Data API): it stores whatever JSON value it is given and leaves validation, number rules,
collection naming and error wording to the dialect. Documents are listed in id order so that a
dialect can page with "the last id seen" as its cursor, which stays correct while other clients
insert concurrently. ``EmulatorStore.transaction`` gives a dialect several reads and writes of one
collection under one write lock, which is what a conditional (compare-and-set) write needs.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from localdev.stargate.core.database import Database
from localdev.stargate.core.values import JsonObject, JsonValue, dump_json, stored_number

Clock = Callable[[], float]

# 2: collection_options (a server of schema 1 would ignore them, so it refuses a database of 2).
_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY,
    options TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS collections (
    namespace TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE TABLE IF NOT EXISTS documents (
    namespace TEXT NOT NULL,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (namespace, collection, id),
    FOREIGN KEY (namespace, collection) REFERENCES collections (namespace, name) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS collection_options (
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    options TEXT NOT NULL,
    PRIMARY KEY (namespace, name),
    FOREIGN KEY (namespace, name) REFERENCES collections (namespace, name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS documents_by_expiry ON documents (expires_at) WHERE expires_at IS NOT NULL;
"""

# Expired documents are hidden by every read at once; deleting them is housekeeping done at most
# this often, piggybacked on writes.
_PURGE_INTERVAL_S = 60.0

_SCAN_AFTER = (
    "SELECT id, body, expires_at FROM documents WHERE namespace = ? AND collection = ? AND id > ?"
    " AND (expires_at IS NULL OR expires_at > ?) ORDER BY id LIMIT ?"
)
_SCAN_FROM = (
    "SELECT id, body, expires_at FROM documents WHERE namespace = ? AND collection = ? AND id >= ?"
    " AND (expires_at IS NULL OR expires_at > ?) ORDER BY id LIMIT ?"
)


class NamespaceNotFound(LookupError):
    """The namespace (keyspace) does not exist."""

    def __init__(self, namespace: str) -> None:
        super().__init__(namespace)
        self.namespace = namespace


class CollectionNotFound(LookupError):
    """The collection does not exist in an existing namespace."""

    def __init__(self, namespace: str, collection: str) -> None:
        super().__init__(f"{namespace}.{collection}")
        self.namespace = namespace
        self.collection = collection


class DocumentExists(LookupError):
    """An insert found a live document with the same id."""

    def __init__(self, doc_id: str) -> None:
        super().__init__(doc_id)
        self.doc_id = doc_id


@dataclass(frozen=True)
class StoredDocument:
    """A document as stored: its id, its JSON value and when it expires (epoch seconds), if ever."""

    id: str
    data: JsonValue
    expires_at: float | None = None


def _encode(data: JsonValue) -> str:
    return dump_json(data)


def _decode(body: str) -> JsonValue:
    value: JsonValue = json.loads(body, parse_float=stored_number)
    return value


class CollectionTransaction:
    """Reads and writes of one collection inside one write transaction.

    Obtained from ``EmulatorStore.transaction``; nothing else can write to the database until the
    transaction ends, so whatever is read here is still true when the writes commit.
    """

    def __init__(self, conn: sqlite3.Connection, namespace: str, collection: str, now: float) -> None:
        """Work on ``namespace.collection`` through ``conn``, which holds the write lock."""
        self._conn = conn
        self._namespace = namespace
        self._collection = collection
        self._now = now

    def get(self, doc_id: str) -> StoredDocument | None:
        """The live document with this id, or None."""
        return _get(self._conn, self._namespace, self._collection, doc_id, self._now)

    def scan(self, *, after_id: str | None = None, batch_size: int = 200) -> Iterator[StoredDocument]:
        """Live documents in id order after ``after_id``, read ``batch_size`` at a time.

        Writing between two documents is allowed: a later batch sees what was written.
        """
        size = max(1, batch_size)

        def fetch(query: str, bound: str) -> list[_Row]:
            return self._conn.execute(
                query, (self._namespace, self._collection, bound, self._now, size)
            ).fetchall()

        return _scan(fetch, after_id, size)

    def insert(self, doc_id: str, data: JsonValue, *, expires_at: float | None = None) -> None:
        """Create a document; raises DocumentExists if a live one has this id."""
        if self.get(doc_id) is not None:
            raise DocumentExists(doc_id)
        self.put(doc_id, data, expires_at=expires_at)

    def put(self, doc_id: str, data: JsonValue, *, expires_at: float | None = None) -> None:
        """Create or fully replace a document."""
        _write(self._conn, self._namespace, self._collection, doc_id, data, expires_at, self._now)

    def delete(self, doc_id: str) -> bool:
        """Delete a document; True if a live one existed."""
        return _delete(self._conn, self._namespace, self._collection, doc_id, self._now)

    def delete_all(self) -> int:
        """Delete every document of the collection; returns how many live ones there were."""
        (live,) = self._conn.execute(
            "SELECT COUNT(*) FROM documents WHERE namespace = ? AND collection = ?"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (self._namespace, self._collection, self._now),
        ).fetchone()
        self._conn.execute(
            "DELETE FROM documents WHERE namespace = ? AND collection = ?",
            (self._namespace, self._collection),
        )
        return int(live)


class EmulatorStore:
    """The emulator's storage: namespaces, collections and documents in one SQLite database.

    Named so that it is never mistaken for the function's stores (``DocumentOrderStore``,
    ``DataApiOrderStore``), which are clients of the APIs emulated over this class.
    """

    def __init__(self, database: Database, *, clock: Clock = time.time) -> None:
        """Create the schema if needed and purge documents that expired while the server was down."""
        self._db = database
        self._clock = clock
        self._purge_lock = threading.Lock()
        self._last_purge = float("-inf")
        with self._db.write() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > _SCHEMA_VERSION:
                raise RuntimeError(
                    f"{database.path} was written by a newer version (schema {version}); use another data dir"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        self.purge_expired()

    # Namespaces -----------------------------------------------------------------------------------

    def create_namespace(self, name: str, options: JsonObject | None = None) -> bool:
        """Create a namespace; False (and no change) if it already exists."""
        with self._db.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO namespaces (name, options, created_at) VALUES (?, ?, ?)",
                (name, _encode(options or {}), self._clock()),
            )
            return cursor.rowcount == 1

    def namespace_exists(self, name: str) -> bool:
        """Whether the namespace exists."""
        with self._db.connection() as conn:
            return _namespace_exists(conn, name)

    def list_namespaces(self) -> list[str]:
        """All namespace names, sorted."""
        with self._db.connection() as conn:
            return [row[0] for row in conn.execute("SELECT name FROM namespaces ORDER BY name")]

    def drop_namespace(self, name: str) -> bool:
        """Delete a namespace with all its collections and documents; False if it did not exist."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM namespaces WHERE name = ?", (name,)).rowcount == 1

    # Collections ----------------------------------------------------------------------------------

    def create_collection(self, namespace: str, name: str, options: JsonObject | None = None) -> bool:
        """Create a collection with ``options`` (kept for the dialect, which gives them meaning); False
        (and no change) if it already exists. Raises NamespaceNotFound."""
        with self._db.write() as conn:
            created = _ensure_collection(conn, namespace, name, self._clock())
            if created and options:
                conn.execute(
                    "INSERT INTO collection_options (namespace, name, options) VALUES (?, ?, ?)",
                    (namespace, name, _encode(options)),
                )
            return created

    def collection_options(self, namespace: str, name: str) -> JsonObject:
        """The options a collection was created with (empty: none). Raises NamespaceNotFound and
        CollectionNotFound."""
        with self._db.read() as conn:
            _require_collection(conn, namespace, name)
            return _options(conn, namespace, name)

    def collection_exists(self, namespace: str, name: str) -> bool:
        """Whether the collection exists. Raises NamespaceNotFound."""
        with self._db.read() as conn:
            if not _namespace_exists(conn, namespace):
                raise NamespaceNotFound(namespace)
            return _collection_exists(conn, namespace, name)

    def list_collections(self, namespace: str) -> list[str]:
        """The collection names of a namespace, sorted. Raises NamespaceNotFound."""
        with self._db.read() as conn:
            if not _namespace_exists(conn, namespace):
                raise NamespaceNotFound(namespace)
            rows = conn.execute(
                "SELECT name FROM collections WHERE namespace = ? ORDER BY name", (namespace,)
            )
            return [row[0] for row in rows]

    def drop_collection(self, namespace: str, name: str) -> bool:
        """Delete a collection and its documents; False if it did not exist. Raises NamespaceNotFound."""
        with self._db.write() as conn:
            if not _namespace_exists(conn, namespace):
                raise NamespaceNotFound(namespace)
            cursor = conn.execute(
                "DELETE FROM collections WHERE namespace = ? AND name = ?", (namespace, name)
            )
            return cursor.rowcount == 1

    # Documents ------------------------------------------------------------------------------------

    def get(self, namespace: str, collection: str, doc_id: str) -> StoredDocument | None:
        """The live document with this id, or None. Raises NamespaceNotFound / CollectionNotFound."""
        with self._db.read() as conn:
            _require_collection(conn, namespace, collection)
            return _get(conn, namespace, collection, doc_id, self._clock())

    def put(
        self,
        namespace: str,
        collection: str,
        doc_id: str,
        data: JsonValue,
        *,
        expires_at: float | None = None,
        create_collection: bool = False,
    ) -> None:
        """Create or fully replace a document (its expiry too).

        Raises NamespaceNotFound, and CollectionNotFound unless ``create_collection``.
        """
        self.put_many(
            namespace,
            collection,
            [(doc_id, data)],
            expires_at=expires_at,
            create_collection=create_collection,
        )

    def put_many(
        self,
        namespace: str,
        collection: str,
        documents: Sequence[tuple[str, JsonValue]],
        *,
        expires_at: float | None = None,
        create_collection: bool = False,
    ) -> None:
        """Create or replace several documents in one transaction (all or none are written)."""
        now = self._clock()
        with self._db.write() as conn:
            _prepare_write(conn, namespace, collection, create_collection, now)
            conn.executemany(
                "INSERT OR REPLACE INTO documents (namespace, collection, id, body, expires_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (namespace, collection, doc_id, _encode(data), expires_at, now)
                    for doc_id, data in documents
                ],
            )
        self._maybe_purge(now)

    def update(
        self,
        namespace: str,
        collection: str,
        doc_id: str,
        change: Callable[[StoredDocument | None], JsonValue | None],
        *,
        create_collection: bool = False,
    ) -> StoredDocument | None:
        """Atomic read-modify-write of one document; the expiry is kept.

        ``change`` gets the current document (None if there is none) and returns the new data, or
        None to leave the document as it is; it runs inside the write transaction, so nothing can
        slip in between the read and the write (this is what a compare-and-set needs), and an
        exception it raises aborts the transaction. Returns the document as it is afterwards.
        """
        now = self._clock()
        with self._db.write() as conn:
            _prepare_write(conn, namespace, collection, create_collection, now)
            current = _get(conn, namespace, collection, doc_id, now)
            new_data = change(current)
            if new_data is None:
                return current
            expires_at = current.expires_at if current is not None else None
            _write(conn, namespace, collection, doc_id, new_data, expires_at, now)
        self._maybe_purge(now)
        return StoredDocument(doc_id, new_data, expires_at)

    @contextmanager
    def transaction(
        self, namespace: str, collection: str, *, create_collection: bool = False
    ) -> Iterator[CollectionTransaction]:
        """One write transaction on a collection: committed when the block ends, rolled back if it raises.

        Raises NamespaceNotFound, and CollectionNotFound unless ``create_collection``. Keep the block
        short: every other writer waits for it.
        """
        now = self._clock()
        with self._db.write() as conn:
            _prepare_write(conn, namespace, collection, create_collection, now)
            yield CollectionTransaction(conn, namespace, collection, now)
        self._maybe_purge(now)

    def delete(self, namespace: str, collection: str, doc_id: str) -> bool:
        """Delete a document; True if a live one existed. Raises NamespaceNotFound / CollectionNotFound."""
        now = self._clock()
        with self._db.write() as conn:
            _require_collection(conn, namespace, collection)
            return _delete(conn, namespace, collection, doc_id, now)

    def scan(
        self, namespace: str, collection: str, *, after_id: str | None = None, batch_size: int = 200
    ) -> Iterator[StoredDocument]:
        """Live documents in id order, starting after ``after_id``.

        Raises NamespaceNotFound / CollectionNotFound at once (not on first iteration). Rows are
        read ``batch_size`` at a time, each batch in its own short transaction, so a slow consumer
        never holds a connection; documents inserted meanwhile appear if their id sorts later.
        """
        with self._db.read() as conn:
            _require_collection(conn, namespace, collection)
        return self._scan_batches(namespace, collection, after_id, max(1, batch_size))

    def _scan_batches(
        self, namespace: str, collection: str, after_id: str | None, batch_size: int
    ) -> Iterator[StoredDocument]:
        def fetch(query: str, bound: str) -> list[_Row]:
            with self._db.read() as conn:
                return conn.execute(
                    query, (namespace, collection, bound, self._clock(), batch_size)
                ).fetchall()

        return _scan(fetch, after_id, batch_size)

    def count(self, namespace: str, collection: str) -> int:
        """Number of live documents in a collection."""
        with self._db.read() as conn:
            _require_collection(conn, namespace, collection)
            (total,) = conn.execute(
                "SELECT COUNT(*) FROM documents WHERE namespace = ? AND collection = ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (namespace, collection, self._clock()),
            ).fetchone()
            return int(total)

    def purge_expired(self) -> int:
        """Delete expired documents; returns how many."""
        now = self._clock()
        with self._db.write() as conn:
            deleted = conn.execute("DELETE FROM documents WHERE expires_at <= ?", (now,)).rowcount
        with self._purge_lock:
            self._last_purge = now
        return deleted

    def _maybe_purge(self, now: float) -> None:
        with self._purge_lock:
            due = now - self._last_purge >= _PURGE_INTERVAL_S
            if due:
                self._last_purge = now
        if due:
            self.purge_expired()


_Row = tuple[str, str, float | None]  # id, body, expires_at


def _scan(
    fetch: Callable[[str, str], list[_Row]], after_id: str | None, batch_size: int
) -> Iterator[StoredDocument]:
    """Documents in id order after ``after_id``, one ``fetch(query, bound)`` per batch."""
    cursor_id = after_id
    while True:
        # ">= ''" on the first batch so that even an empty id is listed.
        query, bound = (_SCAN_AFTER, cursor_id) if cursor_id is not None else (_SCAN_FROM, "")
        rows = fetch(query, bound)
        for doc_id, body, expires_at in rows:
            yield StoredDocument(doc_id, _decode(body), expires_at)
        if len(rows) < batch_size:
            return
        cursor_id = rows[-1][0]


def _namespace_exists(conn: sqlite3.Connection, namespace: str) -> bool:
    return conn.execute("SELECT 1 FROM namespaces WHERE name = ?", (namespace,)).fetchone() is not None


def _collection_exists(conn: sqlite3.Connection, namespace: str, collection: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM collections WHERE namespace = ? AND name = ?", (namespace, collection)
    ).fetchone()
    return row is not None


def _options(conn: sqlite3.Connection, namespace: str, name: str) -> JsonObject:
    row = conn.execute(
        "SELECT options FROM collection_options WHERE namespace = ? AND name = ?", (namespace, name)
    ).fetchone()
    options = _decode(row[0]) if row else {}
    return options if isinstance(options, dict) else {}


def _require_collection(conn: sqlite3.Connection, namespace: str, collection: str) -> None:
    if not _collection_exists(conn, namespace, collection):
        if not _namespace_exists(conn, namespace):
            raise NamespaceNotFound(namespace)
        raise CollectionNotFound(namespace, collection)


def _ensure_collection(conn: sqlite3.Connection, namespace: str, collection: str, now: float) -> bool:
    if not _namespace_exists(conn, namespace):
        raise NamespaceNotFound(namespace)
    cursor = conn.execute(
        "INSERT OR IGNORE INTO collections (namespace, name, created_at) VALUES (?, ?, ?)",
        (namespace, collection, now),
    )
    return cursor.rowcount == 1


def _prepare_write(
    conn: sqlite3.Connection, namespace: str, collection: str, create_collection: bool, now: float
) -> None:
    if create_collection:
        _ensure_collection(conn, namespace, collection, now)
    else:
        _require_collection(conn, namespace, collection)


def _get(
    conn: sqlite3.Connection, namespace: str, collection: str, doc_id: str, now: float
) -> StoredDocument | None:
    row = conn.execute(
        "SELECT body, expires_at FROM documents WHERE namespace = ? AND collection = ? AND id = ?"
        " AND (expires_at IS NULL OR expires_at > ?)",
        (namespace, collection, doc_id, now),
    ).fetchone()
    if row is None:
        return None
    return StoredDocument(doc_id, _decode(row[0]), row[1])


def _write(
    conn: sqlite3.Connection,
    namespace: str,
    collection: str,
    doc_id: str,
    data: JsonValue,
    expires_at: float | None,
    now: float,
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO documents (namespace, collection, id, body, expires_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (namespace, collection, doc_id, _encode(data), expires_at, now),
    )


def _delete(conn: sqlite3.Connection, namespace: str, collection: str, doc_id: str, now: float) -> bool:
    cursor = conn.execute(
        "DELETE FROM documents WHERE namespace = ? AND collection = ? AND id = ?"
        " AND (expires_at IS NULL OR expires_at > ?)",
        (namespace, collection, doc_id, now),
    )
    existed = cursor.rowcount == 1
    # An expired row with this id is gone too, so the id is free again.
    conn.execute(
        "DELETE FROM documents WHERE namespace = ? AND collection = ? AND id = ?",
        (namespace, collection, doc_id),
    )
    return existed
