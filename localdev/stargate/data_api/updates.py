"""Data API update clauses (``{"$set": {...}, "$inc": {...}}``): parsed once, applied to one document.

Every operator of the Data API is here: ``$set $unset $inc $mul $min $max $rename $push $addToSet
$pop $pullAll $currentDate $setOnInsert`` (``$push`` takes ``$each`` and ``$position``,
``$addToSet`` takes ``$each``). Two operations may not touch the same path or one inside the other,
and ``_id`` can only be given by ``$setOnInsert``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, localcontext
from typing import Any

from localdev.stargate.core.values import (
    JsonArray,
    JsonObject,
    JsonValue,
    json_equal,
    plain_number,
    total_order,
)
from localdev.stargate.data_api.documents import (
    ID_FIELD,
    VECTOR_FIELD,
    Path,
    PathConflict,
    check_document,
    get_at,
    parse_path,
    set_at,
    unset_at,
)
from localdev.stargate.data_api.exceptions import DataApiError, ErrorCode, field_invalid, update_error
from localdev.stargate.data_api.schema import lexical_refused, vectorize_refused

_OPERATORS = (
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$min",
    "$max",
    "$rename",
    "$push",
    "$addToSet",
    "$pop",
    "$pullAll",
    "$currentDate",
    "$setOnInsert",
)


@dataclass(frozen=True)
class _Action:
    operator: str
    field: str
    path: Path
    operand: JsonValue


Number = int | float | Decimal
# Digits kept by $inc and $mul on Decimals: exact for any two numbers of up to 5,000 digits each.
_EXACT_DIGITS = 10_000


def _is_number(value: JsonValue) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


def _decimal(number: Number) -> Decimal:
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def _combined(combine: Callable[[Any, Any], Number], left: Number, right: Number) -> Number:
    """``combine(left, right)`` as the Data API's BigDecimal arithmetic gives it: exact (in Decimals
    when either number is one, or when doubles would overflow), written as the plain number it is."""
    if not isinstance(left, Decimal) and not isinstance(right, Decimal):
        result = combine(left, right)
        if not isinstance(result, float) or math.isfinite(result):
            return result
    with localcontext(Context(prec=_EXACT_DIGITS, Emax=MAX_EMAX, Emin=MIN_EMIN)):
        exact = combine(_decimal(left), _decimal(right))
        assert isinstance(exact, Decimal)
        return plain_number(exact)


def _param_error(action: _Action, problem: str) -> DataApiError:
    return update_error(
        ErrorCode.UNSUPPORTED_UPDATE_OPERATION_PARAM, f"{action.operator} on '{action.field}' {problem}"
    )


def _target_error(action: _Action, found: JsonValue) -> DataApiError:
    kind = type(found).__name__ if found is not None else "null"
    return update_error(
        ErrorCode.UNSUPPORTED_UPDATE_OPERATION_TARGET,
        f"{action.operator} cannot be applied to '{action.field}', which holds a {kind}",
    )


def _path(operator: str, field: str) -> Path:
    try:
        path = parse_path(field)
    except ValueError as error:
        raise update_error(ErrorCode.UNSUPPORTED_UPDATE_OPERATION_PATH, str(error)) from None
    if path[0] == "$vectorize":
        raise vectorize_refused()
    if path[0] in ("$lexical", "$hybrid"):
        raise lexical_refused()
    if path == (VECTOR_FIELD,) and operator in ("$set", "$unset", "$setOnInsert"):
        return path  # checked against the collection's vector dimension once applied (collection.py)
    if any(segment.startswith("$") for segment in path):
        raise update_error(
            ErrorCode.UNSUPPORTED_UPDATE_OPERATION_PATH, f"'{field}': path segments must not start with '$'"
        )
    if path[0] == ID_FIELD and not (operator == "$setOnInsert" and path == (ID_FIELD,)):
        raise update_error(ErrorCode.UNSUPPORTED_UPDATE_OPERATOR_FOR_DOC_ID, f"{operator} on '{field}'")
    return path


def _each(action: _Action, modifiers: frozenset[str]) -> tuple[JsonArray, int | None]:
    """The values of a ``$push``/``$addToSet`` (``{"$each": [...]}`` or one value) and ``$position``."""
    operand = action.operand
    if not isinstance(operand, dict) or not any(key.startswith("$") for key in operand):
        return [operand], None
    unknown = set(operand) - modifiers
    if unknown or "$each" not in operand:
        raise _param_error(action, f"accepts only the modifiers {', '.join(sorted(modifiers))} with $each")
    values = operand["$each"]
    if not isinstance(values, list):
        raise _param_error(action, "needs an array in $each")
    position = operand.get("$position")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
        raise _param_error(action, "needs an integer $position")
    return values, position


def _check_operand(action: _Action) -> None:
    operator, operand = action.operator, action.operand
    if operator in ("$inc", "$mul") and not _is_number(operand):
        raise _param_error(action, "needs a number")
    if operator == "$pop" and (isinstance(operand, bool) or operand not in (1, -1)):
        raise _param_error(action, "needs 1 (last) or -1 (first)")
    if operator == "$pullAll" and not isinstance(operand, list):
        raise _param_error(action, "needs an array")
    if operator == "$currentDate" and operand is not True and operand != {"$type": "date"}:
        raise _param_error(action, 'needs true or {"$type": "date"}')
    if operator == "$push":
        _each(action, frozenset({"$each", "$position"}))
    if operator == "$addToSet":
        _each(action, frozenset({"$each"}))


def _overlaps(left: Path, right: Path) -> bool:
    shorter = min(len(left), len(right))
    return left[:shorter] == right[:shorter]


class Update:
    """A parsed update clause."""

    def __init__(self, actions: tuple[_Action, ...]) -> None:
        """Use ``parse_update``."""
        self._actions = actions

    def apply(self, document: JsonObject, *, inserting: bool, now_ms: int) -> JsonObject:
        """The updated copy of ``document``; ``$setOnInsert`` only counts when ``inserting``."""
        result: JsonValue = document
        for action in self._actions:
            if action.operator == "$setOnInsert" and not inserting:
                continue
            try:
                result = self._apply(action, result, now_ms)
            except PathConflict:
                raise _target_error(action, get_at(result, action.path[:-1])[1]) from None
        return check_document(result)

    def _apply(self, action: _Action, root: JsonValue, now_ms: int) -> JsonValue:
        found, current = get_at(root, action.path)
        apply = _APPLY[action.operator]
        return apply(action, root, found, current, now_ms)


_Apply = Callable[[_Action, JsonValue, bool, JsonValue, int], JsonValue]


def _set(action: _Action, root: JsonValue, _found: bool, _current: JsonValue, _now: int) -> JsonValue:
    return set_at(root, action.path, action.operand)


def _unset(action: _Action, root: JsonValue, _found: bool, _current: JsonValue, _now: int) -> JsonValue:
    return unset_at(root, action.path)


def _arithmetic(combine: Callable[[Any, Any], Number]) -> _Apply:
    def apply(action: _Action, root: JsonValue, found: bool, current: JsonValue, _now: int) -> JsonValue:
        operand = action.operand
        assert isinstance(operand, Number)
        if not found:
            # A missing field counts as 0: $inc sets the operand, $mul sets 0 (of the operand's type).
            return set_at(root, action.path, _combined(combine, operand * 0, operand))
        if not _is_number(current):
            raise _target_error(action, current)
        assert isinstance(current, Number)
        return set_at(root, action.path, _combined(combine, current, operand))

    return apply


def _extreme(keep_if: Callable[[int], bool]) -> _Apply:
    def apply(action: _Action, root: JsonValue, found: bool, current: JsonValue, _now: int) -> JsonValue:
        if found and not keep_if(total_order(action.operand, current)):
            return root
        return set_at(root, action.path, action.operand)

    return apply


def _push(action: _Action, root: JsonValue, found: bool, current: JsonValue, _now: int) -> JsonValue:
    values, position = _each(action, frozenset({"$each", "$position"}))
    if found and not isinstance(current, list):
        raise _target_error(action, current)
    array = list(current) if isinstance(current, list) else []
    at = len(array) if position is None else position if position >= 0 else max(0, len(array) + position)
    return set_at(root, action.path, array[:at] + values + array[at:])


def _add_to_set(action: _Action, root: JsonValue, found: bool, current: JsonValue, _now: int) -> JsonValue:
    values, _ = _each(action, frozenset({"$each"}))
    if found and not isinstance(current, list):
        raise _target_error(action, current)
    array = list(current) if isinstance(current, list) else []
    for value in values:
        if not any(json_equal(value, item) for item in array):
            array.append(value)
    return set_at(root, action.path, array)


def _pop(action: _Action, root: JsonValue, found: bool, current: JsonValue, _now: int) -> JsonValue:
    if not found:
        return root
    if not isinstance(current, list):
        raise _target_error(action, current)
    return set_at(root, action.path, current[:-1] if action.operand == 1 else current[1:])


def _pull_all(action: _Action, root: JsonValue, found: bool, current: JsonValue, _now: int) -> JsonValue:
    if not found:
        return root
    if not isinstance(current, list):
        raise _target_error(action, current)
    unwanted = action.operand
    assert isinstance(unwanted, list)
    kept = [item for item in current if not any(json_equal(item, value) for value in unwanted)]
    return set_at(root, action.path, kept)


def _rename(action: _Action, root: JsonValue, found: bool, current: JsonValue, _now: int) -> JsonValue:
    if not found:
        return root
    assert isinstance(action.operand, str)
    return set_at(unset_at(root, action.path), parse_path(action.operand), current)


def _current_date(action: _Action, root: JsonValue, _found: bool, _current: JsonValue, now: int) -> JsonValue:
    return set_at(root, action.path, {"$date": now})


_APPLY: dict[str, _Apply] = {
    "$set": _set,
    "$setOnInsert": _set,
    "$unset": _unset,
    "$inc": _arithmetic(lambda current, operand: current + operand),
    "$mul": _arithmetic(lambda current, operand: current * operand),
    "$min": _extreme(lambda order: order < 0),
    "$max": _extreme(lambda order: order > 0),
    "$push": _push,
    "$addToSet": _add_to_set,
    "$pop": _pop,
    "$pullAll": _pull_all,
    "$rename": _rename,
    "$currentDate": _current_date,
}


def parse_update(raw: JsonValue, *, field: str = "update") -> Update:
    """Parse an update clause, refusing unknown operators, bad operands and overlapping paths."""
    if not isinstance(raw, dict):
        raise field_invalid(field, "must be a JSON object of update operators")
    if not raw:
        raise update_error(ErrorCode.UNSUPPORTED_UPDATE_OPERATION, "an update needs at least one operator")
    actions: list[_Action] = []
    written: list[tuple[Path, str]] = []
    for operator, assignments in raw.items():
        if operator not in _OPERATORS:
            raise update_error(
                ErrorCode.UNSUPPORTED_UPDATE_OPERATION, f"'{operator}' is not an update operator"
            )
        if not isinstance(assignments, dict):
            raise update_error(
                ErrorCode.UNSUPPORTED_UPDATE_OPERATION_PARAM,
                f"{operator} needs an object of paths and values",
            )
        for target, operand in assignments.items():
            action = _Action(operator, target, _path(operator, target), operand)
            _check_operand(action)
            actions.append(action)
            written.append((action.path, target))
            if operator == "$rename":
                if not isinstance(operand, str):
                    raise _param_error(action, "needs the new path as a string")
                written.append((_path(operator, operand), operand))
    for index, (path, name) in enumerate(written):
        for other, other_name in written[index + 1 :]:
            if _overlaps(path, other):
                raise update_error(
                    ErrorCode.UNSUPPORTED_UPDATE_OPERATION_PATH,
                    f"update operations on '{name}' and '{other_name}' overlap",
                )
    return Update(tuple(actions))
