"""The Data API commands this server runs, as data: per command its level, fields and options.

Each ``CommandSpec`` says what a command takes and how much of it is emulated: the fields and
options that work, those accepted without effect, and those refused (with the code sent). The
commands check their payloads against it (an unlisted field or option is ``COMMAND_FIELD_UNKNOWN``)
and ``localdev.stargate.coverage`` prints the coverage table from it, so the two cannot drift.
``NOT_EMULATED`` lists commands clients send that the server refuses as unknown, for the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from localdev.stargate.data_api.exceptions import ErrorCode

Level = Literal["database", "keyspace", "collection"]
LEVELS: tuple[Level, ...] = ("database", "keyspace", "collection")
WHOLE_COMMAND = "the command"


@dataclass(frozen=True)
class CommandSpec:
    """One command (and its aliases): what it takes and how much of it is emulated.

    Entries are field names (``filter``) or options (``options.limit``). ``notes`` qualifies an
    entry, or ``WHOLE_COMMAND`` for a command without fields, in the coverage table.
    """

    names: tuple[str, ...]
    level: Level
    emulated: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    refused_codes: tuple[ErrorCode, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def entries(self) -> tuple[str, ...]:
        """Every field and option the command knows."""
        return self.emulated + self.ignored + self.refused

    @property
    def options(self) -> tuple[str, ...]:
        """The option names the command knows (``limit``, not ``options.limit``)."""
        return tuple(entry.removeprefix("options.") for entry in self.entries if entry.startswith("options."))

    @property
    def fields(self) -> tuple[str, ...]:
        """The top-level field names the command knows (``options`` when it has options)."""
        names = [entry for entry in self.entries if not entry.startswith("options.")]
        return (*names, "options") if self.options else tuple(names)


def _keyspaces(noun: str) -> tuple[str, ...]:
    return (f"{noun}Keyspace", f"{noun}Namespace")  # the deprecated *Namespace* names still work


_VECTOR_READS = ("options.includeSimilarity", "options.includeSortVector")

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        _keyspaces("create"),
        "database",
        emulated=("name",),
        ignored=("options.replication",),
        notes={"options.replication": "one node"},
    ),
    CommandSpec(("findKeyspaces", "findNamespaces"), "database"),
    CommandSpec(_keyspaces("drop"), "database", emulated=("name",)),
    # A Data API without vectorize and rerank lists no providers.
    CommandSpec(
        ("findEmbeddingProviders", "findRerankingProviders"),
        "database",
        ignored=("options.filterModelStatus",),
        notes={"options.filterModelStatus": "there are no providers to filter"},
    ),
    CommandSpec(
        ("createCollection",),
        "keyspace",
        emulated=("name", "options.defaultId", "options.indexing", "options.vector"),
        refused=("options.lexical", "options.rerank"),
        refused_codes=(ErrorCode.LEXICAL_FEATURE_NOT_ENABLED, ErrorCode.RERANKING_FEATURE_NOT_ENABLED),
        notes={
            "options.vector": "dimension, metric, sourceModel; with a service (vectorize): "
            "VECTORIZE_FEATURE_NOT_AVAILABLE",
            "options.lexical": "unless enabled is false",
            "options.rerank": "unless enabled is false",
        },
    ),
    CommandSpec(
        ("findCollections",),
        "keyspace",
        emulated=("options.explain",),
        notes={"options.explain": "lexical and rerank shown disabled"},
    ),
    CommandSpec(("deleteCollection",), "keyspace", emulated=("name",)),
    # Asked by astrapy of a fresh database; tables and types themselves are not emulated.
    CommandSpec(
        ("listTables", "listTypes"),
        "keyspace",
        emulated=("options.explain",),
        notes={"options.explain": "always an empty list"},
    ),
    CommandSpec(("insertOne",), "collection", emulated=("document",)),
    CommandSpec(
        ("insertMany",),
        "collection",
        emulated=("documents", "options.ordered", "options.returnDocumentResponses"),
    ),
    CommandSpec(("findOne",), "collection", emulated=("filter", "projection", "sort", *_VECTOR_READS)),
    CommandSpec(
        ("find",),
        "collection",
        emulated=(
            "filter",
            "projection",
            "sort",
            "options.limit",
            "options.skip",
            "options.pageState",
            *_VECTOR_READS,
        ),
    ),
    CommandSpec(("countDocuments",), "collection", emulated=("filter",)),
    CommandSpec(("estimatedDocumentCount",), "collection", notes={WHOLE_COMMAND: "an exact count"}),
    CommandSpec(("updateOne",), "collection", emulated=("filter", "update", "sort", "options.upsert")),
    CommandSpec(
        ("updateMany",), "collection", emulated=("filter", "update", "options.upsert", "options.pageState")
    ),
    CommandSpec(
        ("findOneAndUpdate",),
        "collection",
        emulated=("filter", "update", "sort", "projection", "options.upsert", "options.returnDocument"),
    ),
    CommandSpec(
        ("findOneAndReplace",),
        "collection",
        emulated=("filter", "replacement", "sort", "projection", "options.upsert", "options.returnDocument"),
    ),
    CommandSpec(("deleteOne",), "collection", emulated=("filter", "sort")),
    CommandSpec(("deleteMany",), "collection", emulated=("filter",)),
    CommandSpec(("findOneAndDelete",), "collection", emulated=("filter", "sort", "projection")),
)

# Commands of the real Data API that clients may send and this server answers COMMAND_UNKNOWN:
# (level, what they are, names).
NOT_EMULATED: tuple[tuple[Level, str, tuple[str, ...]], ...] = (
    (
        "keyspace",
        "tables, indexes and types",
        (
            "createTable",
            "alterTable",
            "dropTable",
            "createIndex",
            "createVectorIndex",
            "createTextIndex",
            "dropIndex",
            "listIndexes",
            "createType",
            "alterType",
            "dropType",
        ),
    ),
    ("collection", "", ("findAndRerank",)),
)


def specs_at(level: Level) -> dict[str, CommandSpec]:
    """Command name -> its spec, for the commands of one level (aliases included)."""
    return {name: spec for spec in COMMANDS if spec.level == level for name in spec.names}
