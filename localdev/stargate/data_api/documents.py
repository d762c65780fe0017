"""Data API documents: what a document may hold, its ``_id`` and storage key, and dotted paths.

Unlike the Document API, numbers are kept as given: integers round-trip exactly (Python's ``int``),
other numbers are doubles. Three extended values are understood wherever a value may appear:
``{"$date": <epoch ms integer>}``, ``{"$uuid": "..."}`` and ``{"$objectId": "<24 hex digits>"}``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from decimal import Decimal

from localdev.stargate.core import paths as core_paths
from localdev.stargate.core.values import JsonArray, JsonObject, JsonValue, canonical_json, extended_kind
from localdev.stargate.data_api.exceptions import ErrorCode, document_error

ID_FIELD = "_id"
VECTOR_FIELD = "$vector"
MAX_DEPTH = 16
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")

Path = tuple[str, ...]


# Extended values -------------------------------------------------------------------------------------


def _check_extended(kind: str, value: JsonObject) -> None:
    inner = value[kind]
    if kind == "$date":
        if not isinstance(inner, int) or isinstance(inner, bool):
            raise document_error(ErrorCode.SHRED_BAD_EJSON_VALUE, "'$date' needs an integer (epoch ms)")
    elif kind == "$uuid":
        try:
            uuid.UUID(inner if isinstance(inner, str) else "")
        except ValueError:
            raise document_error(ErrorCode.SHRED_BAD_EJSON_VALUE, "'$uuid' needs a UUID string") from None
    elif not isinstance(inner, str) or not _OBJECT_ID.fullmatch(inner):
        raise document_error(ErrorCode.SHRED_BAD_EJSON_VALUE, "'$objectId' needs 24 hexadecimal digits")


# Document rules -------------------------------------------------------------------------------------


def check_value(value: JsonValue, depth: int = 1) -> None:
    """Field names, nesting depth and extended values of a value stored in a document."""
    if isinstance(value, list):
        if depth > MAX_DEPTH:
            raise _too_deep()
        for item in value:
            check_value(item, depth + 1)
    elif isinstance(value, dict):
        kind = extended_kind(value)
        if kind is not None:
            _check_extended(kind, value)
            return
        if depth > MAX_DEPTH:
            raise _too_deep()
        for key, item in value.items():
            if not key:
                raise document_error(ErrorCode.SHRED_BAD_FIELD_NAME, "field names must not be empty")
            if key == VECTOR_FIELD and depth == 1:
                continue  # checked against the collection's vector dimension (schema.py)
            if key.startswith("$"):
                raise document_error(
                    ErrorCode.SHRED_BAD_FIELD_NAME, f"field names must not start with '$', got '{key}'"
                )
            check_value(item, depth + 1)


def _too_deep() -> Exception:
    return document_error(
        ErrorCode.SHRED_DOC_LIMIT_VIOLATION, f"document depth exceeds maximum allowed ({MAX_DEPTH})"
    )


def check_id(doc_id: JsonValue) -> JsonValue:
    """``doc_id`` if it may be a document's ``_id``: a string, number, boolean or extended value."""
    if isinstance(doc_id, str | int | float | Decimal) or extended_kind(doc_id) is not None:
        return doc_id
    kind = "null" if doc_id is None else "Array" if isinstance(doc_id, list) else "Object"
    raise document_error(
        ErrorCode.SHRED_BAD_DOCID_TYPE,
        f"Document Id must be a JSON String, Number, Boolean, EJSON-Encoded Date Object or null, got {kind}",
    )


def check_document(value: JsonValue, *, field: str = "document") -> JsonObject:
    """A document that may be stored: an object whose ``_id`` (if any) and contents are valid."""
    if not isinstance(value, dict):
        kind = "Array" if isinstance(value, list) else "null" if value is None else type(value).__name__
        raise document_error(
            ErrorCode.SHRED_BAD_DOCUMENT_TYPE, f"{field} must be a JSON Object, instead got a JSON {kind}"
        )
    if ID_FIELD in value:
        check_id(value[ID_FIELD])
    check_value(value)
    return value


def with_id_first(document: JsonObject, doc_id: JsonValue) -> JsonObject:
    """The document with ``_id`` set to ``doc_id`` and listed first, as the Data API returns it."""
    return {ID_FIELD: doc_id, **{key: value for key, value in document.items() if key != ID_FIELD}}


def storage_key(doc_id: JsonValue) -> str:
    """The storage engine's id for a document ``_id``: its canonical JSON text.

    Distinct ``_id`` values get distinct keys (``"1"`` and ``1`` differ), whole doubles equal their
    integer (``1.0`` and ``1`` are one id), and keys sort the same way every time, which is all that
    id-ordered paging needs.
    """
    return canonical_json(doc_id)


# Paths -----------------------------------------------------------------------------------------------


def parse_path(text: str) -> Path:
    """A dotted path such as ``a.b`` or ``items.0.sku``; None of its segments may be empty."""
    segments = tuple(text.split("."))
    if not text or any(not segment for segment in segments):
        raise ValueError(f"invalid path '{text}'")
    return segments


def _index(segment: str) -> int | None:
    return int(segment) if segment.isdigit() else None


def _reach(value: JsonValue, segment: str) -> list[JsonValue]:
    """One step of a filter's path: a numeric segment indexes an array; another segment applied to
    an array reaches into each of its objects (so ``items.sku`` finds the ``sku`` of every item)."""
    if isinstance(value, list) and _index(segment) is None:
        return [item[segment] for item in value if isinstance(item, dict) and segment in item]
    return _step(value, segment)


def _step(value: JsonValue, segment: str) -> list[JsonValue]:
    """One step through an object's field or an array's element."""
    if isinstance(value, dict):
        return [value[segment]] if segment in value else []
    if isinstance(value, list) and (position := _index(segment)) is not None and position < len(value):
        return [value[position]]
    return []


def resolve(value: JsonValue, path: Sequence[str]) -> list[JsonValue]:
    """Every value the path reaches, looking inside arrays as the Data API's filters do."""
    return core_paths.resolve(value, path, _reach)


def get_at(value: JsonValue, path: Sequence[str]) -> tuple[bool, JsonValue]:
    """``(True, value)`` at a path through objects and array indexes, or ``(False, None)``."""
    return core_paths.get_at(value, path, _step)


class PathConflict(ValueError):
    """A write through a value that is neither an object nor an array it can index."""


def set_at(root: JsonValue, path: Sequence[str], new: JsonValue) -> JsonValue:
    """A copy of ``root`` with ``new`` at ``path``, creating objects on the way (arrays pad with null)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(root, dict):
        container: JsonObject = dict(root)
        container[head] = set_at(container.get(head), rest, new) if head in container else _fresh(rest, new)
        return container
    if isinstance(root, list):
        position = _index(head)
        if position is None:
            raise PathConflict(head)
        array: JsonArray = list(root)
        array.extend([None] * (position + 1 - len(array)))
        current = array[position]
        array[position] = set_at(current, rest, new) if rest and current is not None else _fresh(rest, new)
        return array
    raise PathConflict(head)


def _fresh(path: Sequence[str], new: JsonValue) -> JsonValue:
    if not path:
        return new
    return {path[0]: _fresh(path[1:], new)}


def unset_at(root: JsonValue, path: Sequence[str]) -> JsonValue:
    """A copy of ``root`` without the value at ``path`` (an array element becomes null, as in Mongo)."""
    if not path:
        return root
    head, rest = path[0], path[1:]
    if isinstance(root, dict) and head in root:
        container = dict(root)
        if rest:
            container[head] = unset_at(container[head], rest)
        else:
            del container[head]
        return container
    if isinstance(root, list) and (position := _index(head)) is not None and position < len(root):
        array = list(root)
        array[position] = unset_at(array[position], rest) if rest else None
        return array
    return root
