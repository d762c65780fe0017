"""Walking a path through a JSON document, and the selection tree a projection builds from paths.

The two dialects spell paths differently (``a.b.[0]`` and globs in the Document API, ``a.b.0`` in
the Data API) and step through arrays differently (the Data API reaches into every element of an
array, as Mongo does), so each dialect parses its own paths and says how one segment leads from a
value to its children; the walking and the selection trees are the same and live here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from localdev.stargate.core.values import JsonValue

Segment = TypeVar("Segment", bound=Hashable)
# What one segment reaches from a value: nothing, one child, or several (globs, arrays of objects).
Step = Callable[[JsonValue, Segment], list[JsonValue]]
# For each segment, either None (the whole value) or a deeper selection.
Selection = dict[Segment, "Selection[Segment] | None"]


def resolve(value: JsonValue, path: Sequence[Segment], step: Step[Segment]) -> list[JsonValue]:
    """Every value the path reaches (none when it leads nowhere)."""
    found = [value]
    for segment in path:
        found = [child for parent in found for child in step(parent, segment)]
    return found


def get_at(value: JsonValue, path: Sequence[Segment], step: Step[Segment]) -> tuple[bool, JsonValue]:
    """``(True, value)`` for the first value the path reaches, or ``(False, None)``."""
    found = resolve(value, path, step)
    return (True, found[0]) if found else (False, None)


def select(selection: Selection[Segment], path: Sequence[Segment]) -> None:
    """Add ``path`` to a selection tree; a path already selected whole stays whole."""
    head, rest = path[0], path[1:]
    if head in selection and selection[head] is None:
        return
    if not rest:
        selection[head] = None
        return
    deeper = selection.setdefault(head, {})
    assert deeper is not None
    select(deeper, rest)
