"""Document filters: parsed once by a dialect, then matched against each stored document.

Both dialects build the same tree: ``AllOf`` / ``AnyOf`` / ``Negation`` around ``FieldCondition``
leaves, ``Everything`` for an empty filter. A leaf carries its dialect's operator test and path
walker, because the dialects differ there (the Document API compares numbers as doubles and has no
``$all``/``$size``; the Data API follows Mongo and looks inside arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from localdev.stargate.core.values import JsonValue

# An operator: does any of the values a path reaches satisfy it against the operand?
Test = Callable[[list[JsonValue], JsonValue], bool]


class Filter:
    """A condition on a whole document."""

    def matches(self, document: JsonValue) -> bool:
        """Whether the document satisfies the condition."""
        raise NotImplementedError


@dataclass(frozen=True)
class Everything(Filter):
    """The empty filter: every document matches."""

    def matches(self, document: JsonValue) -> bool:
        """Always true."""
        return True


@dataclass(frozen=True)
class AllOf(Filter):
    """``$and``, and the implicit AND between the keys of one filter object."""

    parts: tuple[Filter, ...]

    def matches(self, document: JsonValue) -> bool:
        """True when every part matches."""
        return all(part.matches(document) for part in self.parts)


@dataclass(frozen=True)
class AnyOf(Filter):
    """``$or``."""

    parts: tuple[Filter, ...]

    def matches(self, document: JsonValue) -> bool:
        """True when some part matches."""
        return any(part.matches(document) for part in self.parts)


@dataclass(frozen=True)
class Negation(Filter):
    """``$not``."""

    inner: Filter

    def matches(self, document: JsonValue) -> bool:
        """True when the inner condition does not match."""
        return not self.inner.matches(document)


@dataclass(frozen=True)
class FieldCondition(Filter):
    """One operator applied to the values a path reaches (``resolve`` is the dialect's path walker)."""

    path: Sequence[Any]
    test: Test
    operand: JsonValue
    resolve: Callable[[JsonValue, Sequence[Any]], list[JsonValue]]

    def matches(self, document: JsonValue) -> bool:
        """Apply the operator to whatever the path reaches."""
        return self.test(self.resolve(document, self.path), self.operand)


def all_of(parts: Sequence[Filter]) -> Filter:
    """The conjunction of ``parts``: the only part when there is one, ``Everything`` when none."""
    if not parts:
        return Everything()
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))
