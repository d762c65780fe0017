"""Sealed cursors: what a caller gets as ``nextCursor`` and must send back unchanged.

A store's position (its own opaque string: a page state, ids already returned, the status filter) is
sealed with an HMAC-SHA256 tag over the caller's id and the position, under a key only the function
holds: ``<position>.<tag>``. A cursor that was edited (its tag included), forged, or issued to
another caller fails the tag check and is answered 400 before any store call, so no caller-made page
state ever reaches the store. The store still checks that the position was issued for the same
``status`` filter.

Where the key lives: deployed, in its own Secrets Manager secret that the stack generates
(``CURSOR_SECRET_ID``; 64 random characters, never in the template); locally, ``CURSOR_KEY``
(``make run`` keeps one in its data directory). The tag key is derived from that value, so any
string of 32 or more characters will do.

Rotating the key (put a new random value in the secret) needs no deploy: each function instance
picks it up when its cached copy expires (``SECRET_MAX_AGE_SECONDS``, 5 minutes). From then on,
cursors sealed with the old key answer 400 "not valid"; a client restarts its listing from the first
page. No order is affected, and during those minutes an instance may still refuse a new cursor that
another instance sealed. Cursors are meant to be followed within minutes, so this is the whole cost.

Hand-written: the standard library's ``hmac`` is the whole mechanism; a token library (JWT, itsdangerous)
would add a dependency and a format for what is one tag over two strings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Mapping

from orders_api import names
from orders_api.errors import ConfigurationError, InvalidCursor
from orders_api.identity import Caller
from orders_api.secret_values import SecretReader

TAG_BYTES = 16
# The tag exactly as seal() writes it: 16 bytes in unpadded URL-safe base64.
_TAG = re.compile(r"[A-Za-z0-9_-]{22}")
MIN_KEY_CHARACTERS = 32
_KEY_LABEL = b"orders-api cursor seal v1"


class CursorSeal:
    """Seals store positions into cursors for one caller, and opens only cursors it sealed for them."""

    def __init__(self, key_value: Callable[[], str]) -> None:
        self._key_value = key_value
        self._derived: tuple[str, bytes] | None = None

    def seal(self, caller: Caller, position: str, scope: str = "") -> str:
        """The cursor a caller is given for ``position`` of a listing narrowed to ``scope``."""
        return f"{position}.{_b64(self._tag(caller, position, scope))}"

    def open(self, caller: Caller, cursor: str, scope: str = "") -> str:
        """The position inside ``cursor``; InvalidCursor unless this API sealed it for ``caller`` and
        the same ``scope`` (an admin's owner filter)."""
        position, dot, tag_text = cursor.rpartition(".")
        if not dot or not position or not cursor.isascii() or not _TAG.fullmatch(tag_text):
            raise InvalidCursor()
        tag = base64.urlsafe_b64decode(tag_text + "=" * (-len(tag_text) % 4))
        if not hmac.compare_digest(tag, self._tag(caller, position, scope)):
            raise InvalidCursor()
        return position

    def _tag(self, caller: Caller, position: str, scope: str) -> bytes:
        # A JSON array: no caller id, scope and position can be shifted into one another.
        message = json.dumps([caller.id, position] if not scope else [caller.id, scope, position]).encode()
        return hmac.new(self._key(), message, hashlib.sha256).digest()[:TAG_BYTES]

    def _key(self) -> bytes:
        value = self._key_value()
        if self._derived is None or self._derived[0] != value:
            if len(value) < MIN_KEY_CHARACTERS:
                raise ConfigurationError(f"The cursor key must be at least {MIN_KEY_CHARACTERS} characters.")
            self._derived = (value, hmac.new(value.encode(), _KEY_LABEL, hashlib.sha256).digest())
        return self._derived[1]


def seal_from_env(env: Mapping[str, str] = os.environ) -> CursorSeal:
    """A seal whose key comes from ``CURSOR_SECRET_ID`` (deployed) or ``CURSOR_KEY`` (local)."""
    secret_id = env.get(names.CURSOR_SECRET_ID, "").strip()
    key = env.get(names.CURSOR_KEY, "").strip()
    if secret_id and key:
        raise ConfigurationError(f"Set one of {names.CURSOR_SECRET_ID} and {names.CURSOR_KEY}, not both.")
    if secret_id:
        try:
            max_age = int(env.get(names.SECRET_MAX_AGE_SECONDS, "") or names.DEFAULT_SECRET_MAX_AGE)
        except ValueError as error:
            raise ConfigurationError(
                f"{names.SECRET_MAX_AGE_SECONDS} must be a whole number of seconds."
            ) from error
        reader = SecretReader(secret_id, max_age, "The cursor key")
        return CursorSeal(reader.read)
    if not key:
        raise ConfigurationError(
            f"Set {names.CURSOR_SECRET_ID} or {names.CURSOR_KEY}: listing orders needs a cursor key."
        )
    if len(key) < MIN_KEY_CHARACTERS:
        raise ConfigurationError(f"{names.CURSOR_KEY} must be at least {MIN_KEY_CHARACTERS} characters.")
    return CursorSeal(lambda: key)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
