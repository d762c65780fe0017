"""Opaque pagination cursors: URL-safe base64 of a small JSON object, bound to the query's filter."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from orders_api.errors import InvalidCursor
from orders_api.models import OrderStatus

CURSOR_VERSION = 1


def encode_cursor(status: OrderStatus | None, position: dict[str, Any]) -> str:
    """A cursor that resumes at ``position`` for the same ``status`` filter."""
    payload = {"v": CURSOR_VERSION, "status": status.value if status else None, **position}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, status: OrderStatus | None) -> dict[str, Any]:
    """The position stored in ``cursor``; InvalidCursor when it is damaged or for another filter."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor() from error
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
        raise InvalidCursor()
    if payload.get("status") != (status.value if status else None):
        raise InvalidCursor("it was issued for a different status filter")
    return payload
