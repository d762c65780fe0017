"""The shaping clauses of Data API reads: ``projection`` (which fields come back) and ``sort``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from localdev.stargate.core import paths as core_paths
from localdev.stargate.core.values import JsonObject, JsonValue, total_order
from localdev.stargate.data_api.documents import ID_FIELD, VECTOR_FIELD, Path, get_at, parse_path
from localdev.stargate.data_api.exceptions import DataApiError, ErrorCode
from localdev.stargate.data_api.schema import (
    VectorSort,
    lexical_refused,
    sort_vector,
    vectorize_refused,
)

_Item = TypeVar("_Item")

_Tree = core_paths.Selection[str]


def _projection_error(problem: str) -> DataApiError:
    return DataApiError(
        ErrorCode.UNSUPPORTED_PROJECTION_PARAM, f"Unsupported projection parameter: {problem}."
    )


def _include(value: JsonObject, tree: _Tree) -> JsonObject:
    picked: JsonObject = {}
    for key, child in value.items():
        if key not in tree:
            continue
        deeper = tree[key]
        if deeper is None:
            picked[key] = child
        elif isinstance(child, dict):
            picked[key] = _include(child, deeper)
        elif isinstance(child, list):
            picked[key] = [_include(item, deeper) for item in child if isinstance(item, dict)]
    return picked


def _exclude(value: JsonObject, tree: _Tree) -> JsonObject:
    kept: JsonObject = {}
    for key, child in value.items():
        if key not in tree:
            kept[key] = child
            continue
        deeper = tree[key]
        if deeper is None:
            continue
        if isinstance(child, dict):
            kept[key] = _exclude(child, deeper)
        elif isinstance(child, list):
            kept[key] = [_exclude(item, deeper) if isinstance(item, dict) else item for item in child]
        else:
            kept[key] = child
    return kept


@dataclass(frozen=True)
class Projection:
    """Either the listed paths (inclusion) or everything but them (exclusion); ``_id`` unless excluded."""

    inclusion: bool
    tree: _Tree
    include_id: bool

    def apply(self, document: JsonObject) -> JsonObject:
        """The projected copy of ``document``."""
        if self.inclusion:
            picked = _include(document, self.tree)
            if self.include_id and ID_FIELD in document:
                picked = {ID_FIELD: document[ID_FIELD], **picked}
            return picked
        kept = _exclude(document, self.tree)
        if not self.include_id:
            kept.pop(ID_FIELD, None)
        return kept


def _flag(field: str, value: JsonValue) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, dict) and any(key.startswith("$") for key in value):
        raise _projection_error(f"'{field}': projection operators such as $slice are not supported")
    raise _projection_error(f"'{field}' must be 1, 0, true or false")


def parse_projection(raw: JsonValue) -> Projection | None:
    """The projection of a read command; None when the whole document comes back."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _projection_error("a projection must be a JSON object")
    if not raw:
        return None
    if "*" in raw:
        if len(raw) != 1:
            raise _projection_error("'*' must be the only field of a projection")
        return None if _flag("*", raw["*"]) else Projection(True, {}, include_id=False)
    include_id = _flag(ID_FIELD, raw[ID_FIELD]) if ID_FIELD in raw else True
    flags = {field: _flag(field, value) for field, value in raw.items() if field != ID_FIELD}
    if len(set(flags.values())) > 1:
        raise _projection_error("cannot mix inclusions and exclusions")
    # Only `_id` listed: {"_id": 1} keeps just the id, {"_id": 0} everything else.
    inclusion = next(iter(flags.values())) if flags else include_id
    tree: _Tree = {}
    for field in flags:
        try:
            core_paths.select(tree, parse_path(field))
        except ValueError as error:
            raise _projection_error(str(error)) from None
    return Projection(inclusion, tree, include_id)


@dataclass(frozen=True)
class Sort:
    """``{"field": 1 | -1, ...}``: ascending or descending on each path in turn."""

    keys: tuple[tuple[Path, int], ...]

    def compare(self, left: JsonObject, right: JsonObject) -> int:
        """-1, 0 or 1: whether ``left`` sorts before, with or after ``right``."""
        for path, direction in self.keys:
            order = total_order(get_at(left, path)[1], get_at(right, path)[1])
            if order:
                return order * direction
        return 0

    def apply(self, items: Sequence[_Item], document: Callable[[_Item], JsonObject]) -> list[_Item]:
        """The items in the sort order of their documents (ties keep their current order)."""

        def compare(left: _Item, right: _Item) -> int:
            return self.compare(document(left), document(right))

        return sorted(items, key=functools.cmp_to_key(compare))


def parse_sort(raw: JsonValue) -> Sort | VectorSort | None:
    """The sort clause of a command; None when there is none."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DataApiError(ErrorCode.INVALID_SORT_CLAUSE, "Invalid sort clause: must be a JSON object.")
    if VECTOR_FIELD in raw:
        if len(raw) > 1:
            raise DataApiError(
                ErrorCode.INVALID_SORT_CLAUSE, "Invalid sort clause: '$vector' must be the only sort field."
            )
        return VectorSort(sort_vector(raw[VECTOR_FIELD]))
    keys: list[tuple[Path, int]] = []
    for field, direction in raw.items():
        if field == "$vectorize":
            raise vectorize_refused()
        if field in ("$lexical", "$hybrid"):
            raise lexical_refused()
        if field.startswith("$"):
            raise DataApiError(
                ErrorCode.INVALID_SORT_CLAUSE, f"Invalid sort clause: unknown field '{field}'."
            )
        if isinstance(direction, bool) or direction not in (1, -1):
            raise DataApiError(
                ErrorCode.INVALID_SORT_CLAUSE, f"Invalid sort clause: '{field}' must be 1 or -1."
            )
        try:
            keys.append((parse_path(field), 1 if direction == 1 else -1))
        except ValueError as error:
            raise DataApiError(ErrorCode.INVALID_SORT_CLAUSE, f"Invalid sort clause: {error}.") from None
    return Sort(tuple(keys)) if keys else None
