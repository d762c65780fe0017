"""Data API filters (``{"status": "PENDING", "total": {"$gt": 10}}``): parsed once, then matched per document.

The filter tree is the core's (``core/filters.py``); the operator tests differ from the Document
API's because the Data API follows Mongo: a bare value or ``$eq`` also matches an array that
contains it, ``$ne``/``$nin`` match documents without the field, ``$exists`` takes ``true`` or
``false``, ``$all`` and ``$size`` exist, and numbers are compared exactly (no conversion to doubles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localdev.stargate.core.filters import AllOf, AnyOf, Everything, FieldCondition, Filter, Negation, all_of
from localdev.stargate.core.values import (
    JsonObject,
    JsonValue,
    compare_same_kind,
    extended_kind,
    json_equal,
    kind_of,
)
from localdev.stargate.data_api.documents import ID_FIELD, VECTOR_FIELD, Path, parse_path, resolve
from localdev.stargate.data_api.exceptions import filter_invalid, filter_unsupported

# Operators the Data API has but this server does not emulate get FILTER_UNSUPPORTED_OPERATOR, like
# any other unknown operator.
_ORDERABLE_KINDS = ("number", "string", "boolean", "$date")


def _equals_or_contains(value: JsonValue, operand: JsonValue) -> bool:
    return json_equal(value, operand) or (
        isinstance(value, list) and any(json_equal(item, operand) for item in value)
    )


def _scalars(values: list[JsonValue]) -> list[JsonValue]:
    """The values, with arrays replaced by their elements (range operators look inside arrays)."""
    return [item for value in values for item in (value if isinstance(value, list) else [value])]


def _ordered(accept: Callable[[int], bool]) -> Callable[[list[JsonValue], JsonValue], bool]:
    def evaluate(values: list[JsonValue], operand: JsonValue) -> bool:
        return any(
            (order := compare_same_kind(value, operand)) is not None and accept(order)
            for value in _scalars(values)
        )

    return evaluate


def _in(values: list[JsonValue], operand: JsonValue) -> bool:
    assert isinstance(operand, list)
    return any(_equals_or_contains(value, candidate) for value in values for candidate in operand)


def _all(values: list[JsonValue], operand: JsonValue) -> bool:
    assert isinstance(operand, list)
    return bool(operand) and any(
        isinstance(value, list) and all(any(json_equal(item, wanted) for item in value) for wanted in operand)
        for value in values
    )


_TESTS: dict[str, Callable[[list[JsonValue], JsonValue], bool]] = {
    "$eq": lambda values, operand: any(_equals_or_contains(value, operand) for value in values),
    "$ne": lambda values, operand: not any(_equals_or_contains(value, operand) for value in values),
    "$in": _in,
    "$nin": lambda values, operand: not _in(values, operand),
    "$gt": _ordered(lambda order: order > 0),
    "$gte": _ordered(lambda order: order >= 0),
    "$lt": _ordered(lambda order: order < 0),
    "$lte": _ordered(lambda order: order <= 0),
    "$exists": lambda values, operand: bool(values) == operand,
    "$all": _all,
    "$size": lambda values, operand: any(
        isinstance(value, list) and len(value) == operand for value in values
    ),
}


@dataclass(frozen=True)
class ParsedFilter:
    """A filter, plus what a command can learn from it without scanning.

    ``id_values`` is set when the filter pins ``_id`` (``{"_id": x}``, ``$eq`` or ``$in``) at its top
    level, so a command can read those documents directly; ``equalities`` are the top-level
    ``field == value`` conditions an upsert copies into the document it creates.
    """

    filter: Filter
    id_values: tuple[JsonValue, ...] | None
    equalities: tuple[tuple[Path, JsonValue], ...]
    paths: tuple[str, ...] = ()  # every field the filter tests, dotted (for the collection's indexing)

    @property
    def is_empty(self) -> bool:
        """Whether the filter selects every document."""
        return isinstance(self.filter, Everything)

    def matches(self, document: JsonValue) -> bool:
        """Whether a document satisfies the filter."""
        return self.filter.matches(document)


def _check_operand(field: str, operator: str, operand: JsonValue) -> JsonValue:
    if operator in ("$in", "$nin", "$all") and not isinstance(operand, list):
        raise filter_invalid(f"'{operator}' on '{field}' needs an array of values")
    if operator in ("$gt", "$gte", "$lt", "$lte") and kind_of(operand) not in _ORDERABLE_KINDS:
        raise filter_invalid(f"'{operator}' on '{field}' needs a number, string, boolean or $date")
    if operator == "$exists" and not isinstance(operand, bool):
        raise filter_invalid(f"'$exists' on '{field}' needs true or false")
    if operator == "$size" and (not isinstance(operand, int) or isinstance(operand, bool) or operand < 0):
        raise filter_invalid(f"'$size' on '{field}' needs a non-negative integer")
    return operand


def _is_operator_object(field: str, value: JsonValue) -> bool:
    """Whether ``{"field": value}`` holds operators rather than an object to compare with."""
    if not isinstance(value, dict) or not value or extended_kind(value) is not None:
        return False
    dollars = [key.startswith("$") for key in value]
    if all(dollars):
        return True
    if any(dollars):
        raise filter_invalid(f"the conditions on '{field}' mix operators and field names")
    return False


class _Parser:
    def __init__(self) -> None:
        self.id_values: tuple[JsonValue, ...] | None = None
        self.equalities: list[tuple[Path, JsonValue]] = []
        self.paths: list[str] = []

    def expression(self, raw: JsonValue, *, top: bool) -> Filter:
        if not isinstance(raw, dict):
            raise filter_invalid("a filter must be a JSON object")
        parts: list[Filter] = []
        for key, value in raw.items():
            if key in ("$and", "$or"):
                if not isinstance(value, list) or not value:
                    raise filter_invalid(f"'{key}' needs a non-empty array of filter objects")
                # Conditions directly under a top-level $and hold for every match, like top-level ones.
                members = tuple(self.expression(part, top=top and key == "$and") for part in value)
                parts.append(AllOf(members) if key == "$and" else AnyOf(members))
            elif key == "$not":
                if not isinstance(value, dict) or not value:
                    raise filter_invalid("'$not' needs a non-empty filter object")
                parts.append(Negation(self.expression(value, top=False)))
            elif key == VECTOR_FIELD:
                if not (isinstance(value, dict) and set(value) == {"$exists"}):
                    raise filter_invalid("'$vector' can only be tested with $exists")
                parts.extend(self.field(key, value, top=False))
            elif key.startswith("$"):
                raise filter_unsupported(key)
            else:
                parts.extend(self.field(key, value, top=top))
        return all_of(parts)

    def field(self, name: str, value: JsonValue, *, top: bool) -> list[Filter]:
        try:
            path = parse_path(name)
        except ValueError as error:
            raise filter_invalid(str(error)) from None
        self.paths.append(name)
        if not _is_operator_object(name, value):
            conditions: JsonObject = {"$eq": value}
        else:
            assert isinstance(value, dict)
            conditions = value
        tests: list[Filter] = []
        for operator, operand in conditions.items():
            if operator not in _TESTS:
                raise filter_unsupported(operator)
            tests.append(
                FieldCondition(path, _TESTS[operator], _check_operand(name, operator, operand), resolve)
            )
            if top:
                self._remember(path, operator, operand)
        return tests

    def _remember(self, path: Path, operator: str, operand: JsonValue) -> None:
        if operator == "$eq":
            self.equalities.append((path, operand))
        if path != (ID_FIELD,) or self.id_values is not None:
            return
        if operator == "$eq":
            self.id_values = (operand,)
        elif operator == "$in":
            assert isinstance(operand, list)
            self.id_values = tuple(operand)


def parse_filter(raw: JsonValue) -> ParsedFilter:
    """Parse a command's ``filter`` (None, when it has none, selects everything)."""
    parser = _Parser()
    parsed = Everything() if raw is None else parser.expression(raw, top=True)
    return ParsedFilter(parsed, parser.id_values, tuple(parser.equalities), tuple(parser.paths))
