"""The ``where`` parameter of a collection search: parsed once, then evaluated per document.

Conditions look like ``{"a.b": {"$gt": 1, "$lt": 5}}``; keys of one object are combined with AND;
``$and``/``$or`` take arrays of such objects and ``$not`` one object. As in Stargate, ``$ne`` and
``$nin`` also match documents that lack the field, ``$exists`` accepts only ``true``, and values of
different JSON types never compare equal or ordered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from localdev.stargate.core.filters import AllOf, AnyOf, FieldCondition, Filter, Negation, all_of
from localdev.stargate.core.values import JsonValue, compare_same_kind, json_equal
from localdev.stargate.document_api.documents import as_double
from localdev.stargate.document_api.exceptions import docs_error
from localdev.stargate.document_api.paths import parse_dotted, resolve

_Operator = Callable[[list[JsonValue], JsonValue], bool]


def _ordered(accept: Callable[[int], bool]) -> _Operator:
    def evaluate(values: list[JsonValue], operand: JsonValue) -> bool:
        return any(
            (order := compare_same_kind(value, operand)) is not None and accept(order) for value in values
        )

    return evaluate


def _in(values: list[JsonValue], operand: JsonValue) -> bool:
    assert isinstance(operand, list)
    return any(json_equal(value, candidate) for value in values for candidate in operand)


_OPERATORS: dict[str, _Operator] = {
    "$eq": lambda values, operand: any(json_equal(value, operand) for value in values),
    "$ne": lambda values, operand: not any(json_equal(value, operand) for value in values),
    "$gt": _ordered(lambda order: order > 0),
    "$gte": _ordered(lambda order: order >= 0),
    "$lt": _ordered(lambda order: order < 0),
    "$lte": _ordered(lambda order: order <= 0),
    "$in": _in,
    "$nin": lambda values, operand: not _in(values, operand),
    "$exists": lambda values, operand: bool(values),
}


def _invalid(message: str) -> Exception:
    return docs_error(400, message)


def _normalize_scalar(value: JsonValue) -> JsonValue:
    # Stored numbers are doubles, so compare against doubles too.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return as_double(value)
    return value


def _check_operand(operator: str, operand: JsonValue) -> JsonValue:
    if operator == "$exists":
        if operand is not True:
            raise _invalid(f"The operation {operator} only supports the value `true`")
        return operand
    if operator in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise _invalid(f"Operation {operator} was expecting a list of values")
        for item in operand:
            if isinstance(item, dict | list):
                raise _invalid(
                    f"Operation {operator} was not expecting a list containing an object or array."
                )
        return [_normalize_scalar(item) for item in operand]
    if isinstance(operand, dict | list):
        raise _invalid(f"Operation {operator} was expecting a value, not an object or array")
    if operand is None and operator != "$ne":
        raise _invalid(f"Operation {operator} was expecting a non-null value")
    return _normalize_scalar(operand)


def _field_conditions(field: str, conditions: JsonValue) -> list[Filter]:
    if not isinstance(conditions, dict) or not conditions:
        raise _invalid(
            f"A filter operation and value resolved as invalid: the conditions on {field} must be an object "
            'such as {"$eq": "value"}.'
        )
    path = parse_dotted(field)
    parsed: list[Filter] = []
    for operator, operand in conditions.items():
        if operator not in _OPERATORS:
            raise _invalid(
                f"Operation {operator} is not supported; use one of {', '.join(sorted(_OPERATORS))}."
            )
        parsed.append(FieldCondition(path, _OPERATORS[operator], _check_operand(operator, operand), resolve))
    return parsed


def _combination(operator: str, operand: JsonValue) -> Sequence[Filter]:
    if not isinstance(operand, list) or not operand:
        raise _invalid(f"The {operator} operator requires a non-empty json array as value.")
    return [build_filter(part) for part in operand]


def build_filter(where: JsonValue) -> Filter:
    """The filter for a parsed ``where`` object; 400 when it is not one Stargate would accept."""
    if not isinstance(where, dict):
        raise _invalid("Search was expecting a JSON object as input.")
    parts: list[Filter] = []
    for key, value in where.items():
        if key == "$and":
            parts.append(AllOf(tuple(_combination(key, value))))
        elif key == "$or":
            parts.append(AnyOf(tuple(_combination(key, value))))
        elif key == "$not":
            if not isinstance(value, dict) or len(value) != 1:
                raise _invalid("The $not operator requires a json object holding one condition as value.")
            parts.append(Negation(build_filter(value)))
        else:
            parts.extend(_field_conditions(key, value))
    # An empty object selects everything, like no `where` at all.
    return all_of(parts)


def parse_where(text: str) -> Filter:
    """Parse the ``where`` query parameter."""
    try:
        where: JsonValue = json.loads(text)
    except (ValueError, RecursionError):
        raise _invalid(
            "The `where` parameter expects a valid JSON object representing search criteria."
        ) from None
    return build_filter(where)
