"""The page state both dialects hand out: an opaque, URL-safe cursor over id-ordered documents.

Documents are listed in storage-id order, so a page state only needs the last id returned (and, for
the Data API's ``limit`` across pages, how many documents came before). Clients must treat it as
opaque; a state this server did not issue is refused by the dialect that receives it.
"""

from __future__ import annotations

import base64
import binascii
import json

_VERSION = "k1"


def encode_page_state(last_id: str, returned: int = 0) -> str:
    """A cursor: the next page starts after ``last_id``; ``returned`` documents came before it."""
    raw = json.dumps([_VERSION, last_id, returned], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_page_state(page_state: str) -> tuple[str, int]:
    """The last id and count of an ``encode_page_state`` cursor; ``ValueError`` for anything else."""
    text = page_state.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        version, last_id, returned = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise ValueError(page_state) from None
    if version != _VERSION or not isinstance(last_id, str) or not isinstance(returned, int):
        raise ValueError(page_state)
    return last_id, returned
