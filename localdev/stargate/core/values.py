"""JSON values as both dialects see them: the type, strict parsing, kinds, equality and order.

Python's ``json`` accepts ``NaN`` and ``Infinity`` and thinks ``True == 1``; JSON does neither, so
every dialect parses bodies with ``parse_strict`` and compares values with ``json_equal`` and
``compare_same_kind`` here. The three extended values of the Data API (``{"$date": <epoch ms>}``,
``{"$uuid": ...}``, ``{"$objectId": ...}``) count as kinds of their own; a Document API value never
is one where it is compared (its filter operands are scalars), so the rules are the same for both.

Numbers keep the precision they were written with where a double cannot (the Data API keeps them as
BigDecimal): ``exact_number`` reads such a literal as a ``Decimal`` and every other one as a float,
and ``dump_json`` writes a ``Decimal`` back digit for digit (``json`` itself cannot write one).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from decimal import Decimal
from typing import Any, NoReturn, TypeAlias

JsonObject: TypeAlias = dict[str, "JsonValue"]
JsonArray: TypeAlias = list["JsonValue"]
JsonValue: TypeAlias = bool | int | float | Decimal | str | JsonArray | JsonObject | None

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


def stored_number(text: str) -> float | Decimal:
    """A number literal with a fraction or exponent: a float when the float has the value written
    (``1.23``, ``1.50``), else a ``Decimal`` of exactly what was written (a float only where even a
    ``Decimal`` cannot hold the exponent)."""
    value = float(text)
    try:
        written = Decimal(text)
        if math.isfinite(value) and Decimal(repr(value)) == written:
            return value
    except ArithmeticError:
        return value
    return written


def exact_number(text: str) -> float | Decimal:
    """``stored_number`` of what a request sends, refusing a number beyond a double's range (``1e999``)."""
    _finite_float(text)
    return stored_number(text)


# Whole numbers up to this many digits are written out in full; larger ones keep their exponent.
_WHOLE_DIGITS = 30


def plain_number(number: Decimal) -> int | float | Decimal:
    """A ``Decimal`` as the number it equals: an integer when whole and written with few digits, a
    float when a float holds it exactly, else the ``Decimal`` without trailing zeros (``1.50`` is
    ``1.5``; ``1E+600`` stays so rather than 601 digits)."""
    if number == number.to_integral_value() and number.adjusted() < _WHOLE_DIGITS:
        return int(number)
    as_float = float(number)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == number:
        return as_float
    return number.normalize()


def parse_strict(
    body: bytes | str, *, finite_numbers: bool = False, exact_numbers: bool = False
) -> JsonValue:
    """The JSON value of ``body``, refusing ``NaN`` and ``Infinity``.

    With ``finite_numbers``, a number too large for a double (``1e999``) is refused too; with
    ``exact_numbers`` as well, and a number a double cannot hold is kept exactly (``exact_number``).
    Raises ``ValueError`` (malformed JSON or text) or ``RecursionError`` (nesting too deep to parse).
    """
    number = exact_number if exact_numbers else _finite_float if finite_numbers else None
    value: JsonValue = json.loads(body, parse_constant=_reject_constant, parse_float=number)
    return value


# A Decimal is written as a string holding this random marker, which dump_json then unquotes.
_MARKER = uuid.uuid4().hex
_MARKED = re.compile(r'"\\u0000' + _MARKER + r':([^"]*)"')


def _marked_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"\x00{_MARKER}:{value}"
    raise TypeError(f"{type(value).__name__} is not JSON")


def dump_json(value: JsonValue, *, sort_keys: bool = False) -> str:
    """Compact JSON of ``value``, a ``Decimal`` written with all its digits."""
    text = json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=sort_keys,
        allow_nan=False,
        default=_marked_decimal,
    )
    return _MARKED.sub(r"\1", text) if _MARKER in text else text


def canonical_json(value: JsonValue) -> str:
    """Compact JSON with sorted keys: equal values (and ``1.0`` and ``1``) always get the same text."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else plain_number(value)
    return dump_json(value, sort_keys=True)


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
    if isinstance(value, int | float | Decimal):
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
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
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
