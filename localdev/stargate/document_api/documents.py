"""The Document API's rules for what a document may contain, and how its numbers come back.

Stargate shreds a document into one row per leaf and keeps every number as a double, so a client
reads ``1`` for ``1.0`` and loses precision past 2^53; the rules here reproduce that, plus the
request-level checks (empty body, bad JSON, forbidden field names, depth, array length).
"""

from __future__ import annotations

import math
from decimal import Decimal

from localdev.stargate.core.routing import malformed_json
from localdev.stargate.core.values import JsonArray, JsonObject, JsonValue, parse_strict
from localdev.stargate.document_api.exceptions import docs_error

MAX_DEPTH = 64
MAX_ARRAY_LENGTH = 1_000_000
_FORBIDDEN_IN_FIELD_NAMES = ("[", ".", "'", "\\")
# Whole doubles this large would print as huge integers; Java's long is the practical limit.
_LARGEST_INTEGRAL = 2.0**63

PRIMITIVE_ROOT = (
    "Updating a key with just a JSON primitive is not allowed. "
    "Hint: update the parent path with a defined object instead."
)
EMPTY_ROOT = (
    "Updating a key with just an empty object or an empty array is not allowed. "
    "Hint: update the parent path with a defined object instead."
)


def parse_json(body: bytes) -> JsonValue:
    """The JSON value of a non-empty body; 400 ``Unable to process JSON`` when it is not JSON."""
    try:
        value = parse_strict(body)
    except RecursionError:
        raise docs_error(400, f"Max depth of {MAX_DEPTH} exceeded.") from None
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        raise malformed_json() from None
    return value


def parse_write_body(body: bytes) -> JsonValue:
    """The JSON payload of a write: 422 when empty, 400 when malformed."""
    if not body.strip():
        raise docs_error(422, "Request invalid: payload must not be empty.")
    return parse_json(body)


def as_double(number: int | float) -> int | float:
    """A number as Stargate returns it: stored as a double, whole values shown as integers."""
    try:
        value = float(number)
    except OverflowError:
        raise docs_error(400, "Numbers must fit in a double.") from None
    if not math.isfinite(value):
        raise docs_error(400, "Numbers must fit in a double.")
    if value.is_integer() and abs(value) < _LARGEST_INTEGRAL:
        return int(value)
    return value


def normalize(value: JsonValue, depth: int = 0) -> JsonValue:
    """Check field names, depth and array length, and turn numbers into doubles, recursively."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):  # a Decimal only from the Data API's parsing
        return as_double(float(value))
    if depth >= MAX_DEPTH:
        raise docs_error(400, f"Max depth of {MAX_DEPTH} exceeded.")
    if isinstance(value, list):
        if len(value) > MAX_ARRAY_LENGTH:
            raise docs_error(400, f"Max array length of {MAX_ARRAY_LENGTH} exceeded.")
        return [normalize(item, depth + 1) for item in value]
    result: JsonObject = {}
    for key, item in value.items():
        check_field_name(key)
        result[key] = normalize(item, depth + 1)
    return result


def check_field_name(name: str) -> None:
    """400 for a field name Stargate cannot turn into a path segment."""
    if not name or any(char in name for char in _FORBIDDEN_IN_FIELD_NAMES):
        raise docs_error(
            400,
            "Array paths contained in square brackets, periods, single quotes, and backslash are not "
            f"allowed in field names, invalid field {name}",
        )


def check_root(value: JsonValue, *, allow_array: bool) -> JsonObject | JsonArray:
    """The payload if it may be written as a whole document (or at a sub-path), else 400."""
    if isinstance(value, dict | list):
        if not value:
            raise docs_error(400, EMPTY_ROOT)
        if isinstance(value, list) and not allow_array:
            raise docs_error(400, "A document must be a JSON object.")
        return value
    raise docs_error(400, PRIMITIVE_ROOT)


def document_from_body(body: bytes, *, allow_array: bool) -> JsonObject | JsonArray:
    """Parse, check and normalize a whole-document payload."""
    root = check_root(parse_write_body(body), allow_array=allow_array)
    normalized = normalize(root)
    assert isinstance(normalized, dict | list)
    return normalized


def patch_from_body(body: bytes) -> JsonObject:
    """Parse, check and normalize a PATCH payload, which must be a non-empty object."""
    payload = parse_write_body(body)
    if isinstance(payload, list):
        raise docs_error(400, "A patch operation must be done with a JSON object, not an array.")
    root = check_root(payload, allow_array=False)
    normalized = normalize(root)
    assert isinstance(normalized, dict)
    return normalized
