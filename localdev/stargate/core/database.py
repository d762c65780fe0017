"""A small pool of SQLite connections shared by the threads of the HTTP server.

SQLite connections must not be used by two threads at once, so each operation borrows a connection
for its duration. WAL mode lets readers proceed while one writer holds the lock; writes use
``BEGIN IMMEDIATE`` so two read-modify-write transactions never deadlock on a lock upgrade.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Idle connections kept for reuse; more may be open while many requests run at once.
_MAX_IDLE_CONNECTIONS = 16


class DatabaseClosed(RuntimeError):
    """Raised when a closed database is used (for example by a request racing a shutdown)."""


class Database:
    """One SQLite file, with connections handed out to one thread at a time."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0) -> None:
        """Open (and create if needed) the database file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        with self.connection() as conn:
            # WAL is a property of the file, so setting it once is enough.
            conn.execute("PRAGMA journal_mode=WAL")

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_s,
            isolation_level=None,  # autocommit; transactions are begun explicitly below
            check_same_thread=False,  # the pool guarantees one user at a time
        )
        conn.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable across application crashes in WAL mode, which is all local runs need.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection in autocommit mode."""
        with self._lock:
            if self._closed:
                raise DatabaseClosed(str(self.path))
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._lock:
                keep = not self._closed and len(self._idle) < _MAX_IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so several queries see one consistent snapshot."""
        with self.connection() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.rollback()

    def close(self) -> None:
        """Close idle connections; borrowed ones are closed when they are given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
