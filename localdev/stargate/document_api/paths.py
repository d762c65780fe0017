"""Document paths: ``a.b.[0]`` in ``where`` and ``fields``, ``/a/b/[0]`` after a document id.

Field names may not contain ``[`` or ``.``, so both spellings split unambiguously. ``*`` stands for
any key and ``[*]`` for any array element (globs are only meaningful for reading). Writes follow
Stargate: writing past the end of an array pads it with nulls, deleting an element removes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from localdev.stargate.core import paths as core_paths
from localdev.stargate.core.values import JsonObject, JsonValue
from localdev.stargate.document_api.documents import MAX_ARRAY_LENGTH, check_field_name
from localdev.stargate.document_api.exceptions import docs_error


@dataclass(frozen=True)
class Key:
    """An object field."""

    name: str


@dataclass(frozen=True)
class Index:
    """An array element."""

    position: int


@dataclass(frozen=True)
class AnyKey:
    """``*``: every field of an object."""


@dataclass(frozen=True)
class AnyIndex:
    """``[*]``: every element of an array."""


Segment = Key | Index | AnyKey | AnyIndex
Path = tuple[Segment, ...]

_INDEXES = re.compile(r"(?:\[(?:\d+|\*)\])+")
_ONE_INDEX = re.compile(r"\[(\d+|\*)\]")


def _invalid_array_path() -> Exception:
    return docs_error(400, "An invalid array path value was provided.")


def _parse_piece(piece: str) -> list[Segment]:
    """One dot-separated piece: a field name, optionally followed by ``[n]`` / ``[*]`` indexes."""
    name, bracket, rest = piece.partition("[")
    segments: list[Segment] = []
    if name:
        segments.append(AnyKey() if name == "*" else Key(name))
    if bracket:
        indexes = bracket + rest
        if not _INDEXES.fullmatch(indexes):
            raise _invalid_array_path()
        for raw in _ONE_INDEX.findall(indexes):
            if raw == "*":
                segments.append(AnyIndex())
            elif int(raw) >= MAX_ARRAY_LENGTH:
                raise _invalid_array_path()
            else:
                segments.append(Index(int(raw)))
    if not segments:
        raise docs_error(400, f"Invalid path {piece!r}: path segments must not be empty.")
    return segments


def parse_dotted(text: str) -> Path:
    """A path as written in ``where`` and ``fields``: ``a.b``, ``a.[0]``, ``a[0].b``, ``a.*``."""
    return tuple(segment for piece in text.split(".") for segment in _parse_piece(piece))


def parse_segments(parts: Sequence[str]) -> Path:
    """A path as written in a URL after the document id: ``a/b/[0]``."""
    path = tuple(segment for piece in parts for segment in _parse_piece(piece))
    for segment in path:
        if isinstance(segment, Key):
            check_field_name(segment.name)  # a write at this path would create the field
    return path


def _children(value: JsonValue, segment: Segment) -> list[JsonValue]:
    if isinstance(value, dict):
        if isinstance(segment, Key):
            return [value[segment.name]] if segment.name in value else []
        if isinstance(segment, AnyKey):
            return list(value.values())
    elif isinstance(value, list):
        if isinstance(segment, Index):
            return [value[segment.position]] if segment.position < len(value) else []
        if isinstance(segment, AnyIndex):
            return list(value)
    return []


def resolve(value: JsonValue, path: Sequence[Segment]) -> list[JsonValue]:
    """Every value the path reaches (several with globs, none when it leads nowhere)."""
    return core_paths.resolve(value, path, _children)


def get_at(value: JsonValue, path: Path) -> tuple[bool, JsonValue]:
    """``(True, value)`` at a glob-free path, or ``(False, None)`` when nothing is there."""
    return core_paths.get_at(value, path, _children)


def set_at(root: JsonValue, path: Path, new: JsonValue) -> JsonValue:
    """``root`` with ``new`` placed at ``path``, creating objects and arrays on the way."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(head, Key):
        container: JsonObject = dict(root) if isinstance(root, dict) else {}
        container[head.name] = set_at(container.get(head.name), rest, new)
        return container
    if isinstance(head, Index):
        array = list(root) if isinstance(root, list) else []
        # Writing past the end pads with nulls, as a shredded array with a gap reads back.
        array.extend([None] * (head.position + 1 - len(array)))
        array[head.position] = set_at(array[head.position], rest, new)
        return array
    raise docs_error(400, "Globs (`*`, `[*]`) are not allowed in the path of a write.")


def delete_at(root: JsonValue, path: Path) -> JsonValue:
    """``root`` without whatever is at ``path`` (unchanged when nothing is there)."""
    if not path:
        return None
    head, rest = path[0], path[1:]
    if isinstance(head, Key) and isinstance(root, dict) and head.name in root:
        container = dict(root)
        if rest:
            container[head.name] = delete_at(container[head.name], rest)
        else:
            del container[head.name]
        return container
    if isinstance(head, Index) and isinstance(root, list) and head.position < len(root):
        array = list(root)
        if rest:
            array[head.position] = delete_at(array[head.position], rest)
        else:
            del array[head.position]
        return array
    if isinstance(head, AnyKey | AnyIndex):
        raise docs_error(400, "Globs (`*`, `[*]`) are not allowed in the path of a write.")
    return root


_Selection = core_paths.Selection[Segment]


def _merge(selections: Iterable[_Selection | None]) -> _Selection | None:
    merged: _Selection = {}
    for selection in selections:
        if selection is None:
            return None
        for segment, deeper in selection.items():
            if segment in merged:
                merged[segment] = _merge([merged[segment], deeper])
            else:
                merged[segment] = deeper
    return merged


def _pick(child: JsonValue, wanted: list[_Selection | None]) -> tuple[bool, JsonValue]:
    merged = _merge(wanted)
    return (True, child) if merged is None else _project(child, merged)


def _project(value: JsonValue, selection: _Selection) -> tuple[bool, JsonValue]:
    """``(True, selected part)``, or ``(False, None)`` when the selection reaches nothing."""
    if isinstance(value, dict):
        projected: JsonObject = {}
        for key, child in value.items():
            wanted = [selection[s] for s in (Key(key), AnyKey()) if s in selection]
            if wanted:
                found, picked = _pick(child, wanted)
                if found:
                    projected[key] = picked
        return bool(projected), projected
    if isinstance(value, list):
        elements: list[JsonValue] = []
        for position, child in enumerate(value):
            wanted = [selection[s] for s in (Index(position), AnyIndex()) if s in selection]
            if wanted:
                found, picked = _pick(child, wanted)
                if found:
                    elements.append(picked)
        return bool(elements), elements
    return False, None


def project(value: JsonValue, paths: Sequence[Path]) -> JsonValue:
    """Only the parts of ``value`` that the paths select, keeping their nesting (``{}`` if none)."""
    selection: _Selection = {}
    for path in paths:
        if path:
            core_paths.select(selection, path)
    found, picked = _project(value, selection)
    return picked if found else {}
