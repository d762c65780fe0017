"""A Data API collection's settings (``createCollection``'s options) and what each one changes.

- ``defaultId``: the ``_id`` a document inserted without one gets: ``{"$objectId": ...}`` for
  ``objectId``, ``{"$uuid": ...}`` of version 4, 6 or 7 for ``uuid``, ``uuidv6``, ``uuidv7``; a UUID
  string when the collection has no ``defaultId``.
- ``indexing``: an ``allow`` or a ``deny`` list of paths. Every document is still stored whole, but a
  filter or sort on a path that is not indexed is refused, as the Data API refuses it.
- ``vector``: ``dimension``, ``metric`` (cosine, dot_product, euclidean) and ``sourceModel``. A
  document's ``$vector`` (an array of numbers, or ``{"$binary": ...}``: big-endian float32s in base64,
  as astrapy sends it) must have that many numbers, and comes back as it was written (array or
  ``$binary``), as the Data API returns it. ``sort: {"$vector": [...]}`` scores every candidate with the
  Data API's similarity (cosine ``(1 + cos) / 2``, dot product ``(1 + dot) / 2``, euclidean
  ``1 / (1 + d^2)``): an exact search where the Data API's index is approximate, which for a local
  run's few documents finds the same; like every sort here, over the first 10,000 matches.
- ``lexical``, ``rerank`` and ``vector.service`` (vectorize): this server answers as a Data API whose
  database has none of them. They are echoed disabled, and asking for them is refused with the Data
  API's own codes.

uuid versions 6 and 7 are made here: the ``uuid`` module of Python 3.11 to 3.13 has neither.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import struct
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from localdev.stargate.core.values import JsonObject, JsonValue
from localdev.stargate.data_api.documents import VECTOR_FIELD
from localdev.stargate.data_api.exceptions import DataApiError, ErrorCode

SIMILARITY_FIELD = "$similarity"
ID_TYPES = ("objectId", "uuid", "uuidv6", "uuidv7")
METRICS = ("cosine", "dot_product", "euclidean")
SOURCE_MODELS = (
    "ada002",
    "bert",
    "cohere-v3",
    "gecko",
    "nv-qa-4",
    "openai-v3-large",
    "openai-v3-small",
    "other",
)
MAX_DIMENSION = 4096
# A vector sort reads at most this many documents in all (the Data API's maxVectorSearchLimit).
MAX_VECTOR_SEARCH_LIMIT = 1000

_Item = TypeVar("_Item")
_FLOAT32_MAX = 3.4028234663852886e38
# 100-nanosecond intervals between the Gregorian epoch (1582-10-15) and the Unix epoch, for uuid v6.
_GREGORIAN_OFFSET = 0x01B21DD213814000


def _schema_error(code: ErrorCode, problem: str) -> DataApiError:
    return DataApiError(code, f"{problem[0].upper()}{problem[1:]}.")


# Ids -------------------------------------------------------------------------------------------------


def _random_bits(bits: int) -> int:
    return int.from_bytes(os.urandom((bits + 7) // 8), "big") >> (-bits % 8)


def uuid6() -> uuid.UUID:
    """A version 6 UUID: the Gregorian timestamp, most significant bits first, then random bits."""
    stamp = time.time_ns() // 100 + _GREGORIAN_OFFSET
    value = (stamp >> 12) << 80 | 6 << 76 | (stamp & 0xFFF) << 64 | 0b10 << 62 | _random_bits(62)
    return uuid.UUID(int=value)


def uuid7() -> uuid.UUID:
    """A version 7 UUID: Unix milliseconds, then random bits."""
    millis = time.time_ns() // 1_000_000
    value = millis << 80 | 7 << 76 | _random_bits(12) << 64 | 0b10 << 62 | _random_bits(62)
    return uuid.UUID(int=value)


def object_id() -> str:
    """A MongoDB-style ObjectId: seconds since the epoch, then random bytes (24 hex digits)."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{os.urandom(8).hex()}"


_NEW_IDS: dict[str | None, Callable[[], JsonValue]] = {
    None: lambda: str(uuid.uuid4()),
    "uuid": lambda: {"$uuid": str(uuid.uuid4())},
    "uuidv6": lambda: {"$uuid": str(uuid6())},
    "uuidv7": lambda: {"$uuid": str(uuid7())},
    "objectId": lambda: {"$objectId": object_id()},
}


# Vectors ---------------------------------------------------------------------------------------------


def _float32(number: float) -> float:
    """``number`` as a float32 (as the database keeps a vector), with the fewest digits that give it back."""
    packed = struct.pack(">f", number)
    value: float = struct.unpack(">f", packed)[0]
    for digits in range(1, 10):
        shortest = float(f"{value:.{digits}g}")
        if struct.pack(">f", shortest) == packed:
            return shortest
    return value


def vector_floats(raw: JsonValue) -> list[float]:
    """The numbers of a ``$vector`` (an array of numbers, or ``{"$binary": <base64 float32s>}``) as
    floats; refused as the Data API refuses a bad one."""
    numbers: Sequence[object]
    if isinstance(raw, dict) and set(raw) == {"$binary"} and isinstance(raw["$binary"], str):
        try:
            data = base64.b64decode(raw["$binary"], validate=True)
        except (binascii.Error, ValueError):
            raise _schema_error(ErrorCode.SHRED_BAD_BINARY_VECTOR_VALUE, "not valid base64") from None
        if len(data) % 4:
            raise _schema_error(ErrorCode.SHRED_BAD_BINARY_VECTOR_VALUE, "not a whole number of float32s")
        numbers = struct.unpack(f">{len(data) // 4}f", data)
    elif isinstance(raw, list):
        numbers = raw
    else:
        raise _schema_error(ErrorCode.SHRED_BAD_VECTOR_VALUE, "needs to be an array of numbers")
    if not numbers:
        raise _schema_error(ErrorCode.SHRED_BAD_VECTOR_SIZE, "cannot be empty Array")
    floats: list[float] = []
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int | float | Decimal):
            raise _schema_error(
                ErrorCode.SHRED_BAD_VECTOR_VALUE, f"needs an array of numbers, not a {_kind(number)}"
            )
        try:
            value = float(number)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
            raise _schema_error(ErrorCode.SHRED_BAD_VECTOR_VALUE, "a number is beyond a float's range")
        floats.append(value)
    return floats


def _kind(value: object) -> str:
    return {bool: "boolean", str: "string", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def sort_vector(raw: JsonValue) -> tuple[float, ...]:
    """A sort's vector, as float32 values (as ``includeSortVector`` echoes it)."""
    return tuple(_float32(number) for number in vector_floats(raw))


def similarity(metric: str, left: Sequence[float], right: Sequence[float]) -> float:
    """The Data API's similarity score of two vectors, between 0 and 1 (higher: more alike)."""
    dot = sum(a * b for a, b in zip(left, right, strict=True))
    if metric == "dot_product":
        return (1 + dot) / 2
    if metric == "euclidean":
        return 1 / (1 + sum((a - b) ** 2 for a, b in zip(left, right, strict=True)))
    norms = math.sqrt(sum(a * a for a in left)) * math.sqrt(sum(b * b for b in right))
    return (1 + dot / norms) / 2 if norms else 0.0


@dataclass(frozen=True)
class VectorSort:
    """``sort: {"$vector": [...]}``: the most similar documents first; those without ``$vector`` left out."""

    vector: tuple[float, ...]
    metric: str = "cosine"

    def score(self, document: JsonObject) -> float | None:
        """The document's similarity to the sort vector; None when it has no vector of that length."""
        stored = document.get(VECTOR_FIELD)
        if stored is None:
            return None
        try:
            vector = vector_floats(stored)  # checked when written
        except DataApiError:
            return None
        return similarity(self.metric, self.vector, vector) if len(vector) == len(self.vector) else None

    def apply(self, items: Sequence[_Item], document: Callable[[_Item], JsonObject]) -> list[_Item]:
        """The items whose documents have a vector, the most similar first (ties keep their order)."""
        scored = [(score, item) for item in items if (score := self.score(document(item))) is not None]
        return [item for _, item in sorted(scored, key=lambda pair: -pair[0])]


def vectorize_refused() -> DataApiError:
    """The answer to ``$vectorize`` anywhere: this server computes no embeddings."""
    return _schema_error(
        ErrorCode.VECTORIZE_FEATURE_NOT_AVAILABLE, "this server computes no embeddings; send '$vector'"
    )


def lexical_refused() -> DataApiError:
    """The answer to ``$lexical`` and ``$hybrid`` anywhere: no collection here has lexical search."""
    return _schema_error(
        ErrorCode.LEXICAL_NOT_ENABLED_FOR_COLLECTION, "no collection of this server has lexical search"
    )


# The collection ----------------------------------------------------------------------------------------


def _covers(rule: str, path: str) -> bool:
    return rule == "*" or path == rule or path.startswith(rule + ".")


@dataclass(frozen=True)
class CollectionSchema:
    """What ``createCollection`` set: ``defaultId``, ``indexing`` and ``vector`` (none: all defaults)."""

    default_id: str | None = None
    indexing_mode: str | None = None  # "allow" or "deny"
    indexing_paths: tuple[str, ...] = ()
    dimension: int | None = None
    metric: str = "cosine"
    source_model: str = "other"

    @classmethod
    def parse(cls, options: JsonObject) -> CollectionSchema:
        """Read ``createCollection``'s options, refusing what the Data API refuses."""
        default_id = _default_id(options.get("defaultId"))
        mode, paths = _indexing(options.get("indexing"))
        dimension, metric, model = _vector(options.get("vector"))
        for feature, code in (
            ("lexical", ErrorCode.LEXICAL_FEATURE_NOT_ENABLED),
            ("rerank", ErrorCode.RERANKING_FEATURE_NOT_ENABLED),
        ):
            raw = options.get(feature)
            if raw is not None and (not isinstance(raw, dict) or raw.get("enabled", True) is not False):
                raise _schema_error(code, f"this server has no {feature} feature; leave '{feature}' out")
        return cls(default_id, mode, paths, dimension, metric, model)

    @classmethod
    def of(cls, stored: JsonObject) -> CollectionSchema:
        """The schema of a collection, from the options kept when it was created."""
        return cls.parse(stored) if stored else cls()

    def to_json(self) -> JsonObject:
        """The options as kept, and as ``findCollections`` echoes them (without lexical and rerank)."""
        options: JsonObject = {}
        if self.dimension is not None:
            options["vector"] = {
                "dimension": self.dimension,
                "metric": self.metric,
                "sourceModel": self.source_model,
            }
        if self.indexing_mode is not None:
            options["indexing"] = {self.indexing_mode: list(self.indexing_paths)}
        if self.default_id is not None:
            options["defaultId"] = {"type": self.default_id}
        return options

    def described(self) -> JsonObject:
        """The options as ``findCollections`` with ``explain`` shows them."""
        return {**self.to_json(), "lexical": {"enabled": False}, "rerank": {"enabled": False}}

    def new_id(self) -> JsonValue:
        """The ``_id`` of a document inserted without one."""
        return _NEW_IDS[self.default_id]()

    def indexed(self, path: str) -> bool:
        """Whether filters and sorts may use ``path`` (a dotted path)."""
        if path in ("_id", VECTOR_FIELD) or self.indexing_mode is None:
            return True
        covered = any(_covers(rule, path) for rule in self.indexing_paths)
        return covered if self.indexing_mode == "allow" else not covered

    def check_filter_paths(self, paths: Sequence[str]) -> None:
        """Refuse a filter on a path that is not indexed."""
        self._check_indexed(
            paths,
            ErrorCode.FILTER_PATH_UNINDEXED,
            "Collection path '{}' is not indexed: cannot filter on that path.",
        )

    def check_sort_paths(self, paths: Sequence[str]) -> None:
        """Refuse a sort on a path that is not indexed."""
        self._check_indexed(
            paths,
            ErrorCode.SORT_CLAUSE_PATH_UNINDEXED,
            "Collection field '{}' is not indexed: cannot sort using it.",
        )

    def _check_indexed(self, paths: Sequence[str], code: ErrorCode, message: str) -> None:
        unindexed = next((path for path in paths if not self.indexed(path)), None)
        if unindexed is not None:
            raise DataApiError(code, message.format(unindexed))

    def vector_sort(self, sort: VectorSort) -> VectorSort:
        """``sort`` with this collection's metric, once its vector is checked against the dimension."""
        self.check_vector(list(sort.vector))
        return VectorSort(sort.vector, self.metric)

    def check_vector(self, vector: list[float]) -> list[float]:
        """A ``$vector`` of a document or sort, which needs a vector collection of its dimension."""
        if self.dimension is None:
            raise _schema_error(
                ErrorCode.VECTOR_SEARCH_NOT_SUPPORTED, "the collection was created without a 'vector' option"
            )
        if len(vector) != self.dimension:
            raise _schema_error(
                ErrorCode.INVALID_VECTOR_LENGTH,
                f"the configured vector dimension is {self.dimension}, the vector has {len(vector)}",
            )
        return vector


def _default_id(raw: JsonValue) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"type"}:
        raise _schema_error(
            ErrorCode.INVALID_CREATE_COLLECTION_OPTIONS, "'defaultId' must be an object holding only 'type'"
        )
    kind = raw["type"]
    if kind == "":
        return None
    if kind not in ID_TYPES:
        raise _schema_error(
            ErrorCode.INVALID_CREATE_COLLECTION_OPTIONS,
            f"'defaultId.type' must be one of {', '.join(ID_TYPES)}",
        )
    return str(kind)


def _indexing(raw: JsonValue) -> tuple[str | None, tuple[str, ...]]:
    if raw is None:
        return None, ()
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("allow", "deny"):
        raise _schema_error(ErrorCode.INVALID_INDEXING_DEFINITION, "give either 'allow' or 'deny', not both")
    ((mode, paths),) = raw.items()
    if not isinstance(paths, list) or not all(isinstance(path, str) and path for path in paths):
        raise _schema_error(ErrorCode.INVALID_INDEXING_DEFINITION, f"'{mode}' must be an array of paths")
    if "*" in paths and len(paths) > 1:
        raise _schema_error(ErrorCode.INVALID_INDEXING_DEFINITION, "'*' must be the only path when used")
    return mode, tuple(sorted({str(path) for path in paths}))  # a set: order and repeats do not matter


def _vector(raw: JsonValue) -> tuple[int | None, str, str]:
    if raw is None:
        return None, "cosine", "other"
    if not isinstance(raw, dict):
        raise _schema_error(ErrorCode.INVALID_CREATE_COLLECTION_OPTIONS, "'vector' must be an object")
    if raw.get("service") is not None:
        raise _schema_error(
            ErrorCode.VECTORIZE_FEATURE_NOT_AVAILABLE, "this server computes no embeddings ('vector.service')"
        )
    unknown = sorted(set(raw) - {"dimension", "metric", "sourceModel", "service"})
    if unknown:
        raise _schema_error(
            ErrorCode.INVALID_CREATE_COLLECTION_OPTIONS, f"'vector' has no option '{unknown[0]}'"
        )
    dimension = raw.get("dimension")
    if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
        raise _schema_error(
            ErrorCode.INVALID_CREATE_COLLECTION_OPTIONS,
            f"'vector.dimension' must be an integer from 1 to {MAX_DIMENSION}",
        )
    metric = raw.get("metric") or "cosine"
    if metric not in METRICS:
        raise _schema_error(ErrorCode.UNKNOWN_VECTOR_METRIC, f"the known metrics are {', '.join(METRICS)}")
    model = raw.get("sourceModel") or "other"
    if model not in SOURCE_MODELS:
        raise _schema_error(
            ErrorCode.INVALID_CREATE_COLLECTION_OPTIONS,
            f"'vector.sourceModel' must be one of {', '.join(SOURCE_MODELS)}",
        )
    return dimension, str(metric), str(model)
