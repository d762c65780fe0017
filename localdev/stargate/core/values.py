"""JSON values as both dialects see them: the type, strict parsing, kinds, equality and order.

Python's ``json`` accepts ``NaN`` and ``Infinity`` and thinks ``True == 1``; JSON does neither, so
every dialect parses bodies with ``parse_strict`` and compares values with ``json_equal`` and
``compare_same_kind`` here. The three extended values of the Data API (``{"$date": <epoch ms>}``,
``{"$uuid": ...}``, ``{"$objectId": ...}``) count as kinds of their own; a Document API value never
is one where it is compared (its filter operands are scalars), so the rules are the same for both.
"""

from __future__ import annotations

import json
import math
from typing import NoReturn, TypeAlias

JsonObject: TypeAlias = dict[str, "JsonValue"]
JsonArray: TypeAlias = list["JsonValue"]
JsonValue: TypeAlias = bool | int | float | str | JsonArray | JsonObject | None

EXTENDED_KINDS = ("$date", "$uuid", "$objectId")
# Types in the order a sort lists them (ascending); a missing value sorts with null.
_TYPE_RANK = {"null": 0, "number": 1, "string": 2, "object": 3, "array": 4, "boolean": 5, "$date": 6}


# Parsing ---------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)  # 1e999 would otherwise become infinity
    return value


def parse_strict(body: bytes | str, *, finite_numbers: bool = False) -> JsonValue:
    """The JSON value of ``body``, refusing ``NaN`` and ``Infinity``.

    With ``finite_numbers``, a number too large for a double (``1e999``) is refused too. Raises
    ``ValueError`` (malformed JSON or text) or ``RecursionError`` (nesting too deep to parse).
    """
    value: JsonValue = json.loads(
        body, parse_constant=_reject_constant, parse_float=_finite_float if finite_numbers else None
    )
    return value


def canonical_json(value: JsonValue) -> str:
    """Compact JSON with sorted keys: equal values (and ``1.0`` and ``1``) always get the same text."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# Kinds, equality and order ---------------------------------------------------------------------------


def extended_kind(value: JsonValue) -> str | None:
    """``"$date"``, ``"$uuid"`` or ``"$objectId"`` when ``value`` is such a wrapper object, else None."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in EXTENDED_KINDS:
            return key
    return None


def kind_of(value: JsonValue) -> str:
    """The JSON type of a value (``$date``, ``$uuid`` and ``$objectId`` count as their own types)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return extended_kind(value) or "object"


def json_equal(left: JsonValue, right: JsonValue) -> bool:
    """Deep equality where types must match (Python's ``True == 1`` does not count)."""
    kind = kind_of(left)
    if kind != kind_of(right):
        return False
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[key], right[key]) for key in left)
    return left == right


def compare_same_kind(left: JsonValue, right: JsonValue) -> int | None:
    """-1, 0 or 1 for two numbers, strings, booleans or dates; None when they cannot be ordered."""
    kind = kind_of(left)
    if kind != kind_of(right) or kind not in ("number", "string", "boolean", "$date"):
        return None
    if isinstance(left, dict) and isinstance(right, dict):
        left, right = left["$date"], right["$date"]
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    if isinstance(left, int | float) and isinstance(right, int | float):
        return (left > right) - (left < right)
    return None


def total_order(left: JsonValue, right: JsonValue) -> int:
    """-1, 0 or 1 between any two values: by type first, then by value (for sort, ``$min``, ``$max``)."""
    left_rank = _TYPE_RANK.get(kind_of(left), len(_TYPE_RANK))
    right_rank = _TYPE_RANK.get(kind_of(right), len(_TYPE_RANK))
    if left_rank != right_rank:
        return (left_rank > right_rank) - (left_rank < right_rank)
    same = compare_same_kind(left, right)
    if same is not None:
        return same
    if json_equal(left, right):
        return 0
    # Objects, arrays, uuids and object ids: any fixed order will do.
    left_text, right_text = canonical_json(left), canonical_json(right)
    return (left_text > right_text) - (left_text < right_text)
