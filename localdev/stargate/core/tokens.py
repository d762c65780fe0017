"""Auth tokens issued by ``/v1/auth``, kept in SQLite so they survive a restart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from localdev.stargate.core.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_tokens (
    token TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""

# Stargate caches validations for about a minute, so extending the expiry at most once a minute
# behaves the same while sparing a write on most requests.
_REFRESH_GRANULARITY_S = 60.0


class TokenStore:
    """Issues random UUID tokens that expire ``ttl_s`` seconds after their last successful use."""

    def __init__(
        self, database: Database, *, ttl_s: float = 1800.0, clock: Callable[[], float] = time.time
    ) -> None:
        """Create the token table if needed."""
        self._db = database
        self._ttl_s = ttl_s
        self._clock = clock
        with self._db.write() as conn:
            conn.execute(_SCHEMA)

    def issue(self, username: str) -> str:
        """A new token for ``username``."""
        token = str(uuid.uuid4())
        now = self._clock()
        with self._db.write() as conn:
            conn.execute("DELETE FROM auth_tokens WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO auth_tokens (token, username, expires_at) VALUES (?, ?, ?)",
                (token, username, now + self._ttl_s),
            )
        return token

    def check(self, token: str) -> bool:
        """Whether the token is known and unexpired; a successful check slides its expiry."""
        now = self._clock()
        with self._db.connection() as conn:
            row = conn.execute("SELECT expires_at FROM auth_tokens WHERE token = ?", (token,)).fetchone()
            if row is None or row[0] <= now:
                return False
            if now + self._ttl_s - row[0] >= _REFRESH_GRANULARITY_S:
                conn.execute(
                    "UPDATE auth_tokens SET expires_at = MAX(expires_at, ?) WHERE token = ?",
                    (now + self._ttl_s, token),
                )
            return True
