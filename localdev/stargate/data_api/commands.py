"""The Data API's commands at the database and keyspace levels, and what every command shares.

A command's payload is read through ``Fields``, which knows from the catalogue (``catalog.py``)
which fields and options the command takes and refuses any other. Data API collections live in
the storage engine under ``data_api:<name>`` (``STORAGE_PREFIX``): keyspaces are shared with the
Document API (one made through either dialect exists for both), collections are not, because the
two keep numbers differently (the Document API turns every number into a double, the Data API
keeps integers exactly). The Document API cannot spell a name with ``:``, so neither dialect sees
the other's collections. The collection level (documents) is ``collection.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from localdev.stargate.core.storage import CollectionNotFound, EmulatorStore, NamespaceNotFound
from localdev.stargate.core.values import JsonObject, JsonValue
from localdev.stargate.data_api.catalog import Level, specs_at
from localdev.stargate.data_api.exceptions import DataApiError, ErrorCode, ErrorNames, field_invalid
from localdev.stargate.data_api.schema import CollectionSchema

STORAGE_PREFIX = "data_api:"
_NAME = re.compile(r"[a-zA-Z0-9_]{1,48}")
# What the server's messages call each level.
_LEVEL_WORDS: dict[Level, str] = {"database": "general", "keyspace": "keyspace", "collection": "collection"}


@dataclass
class CommandResult:
    """What a command answers: ``status``, ``data`` and ``errors``, each left out when empty."""

    status: JsonObject | None = None
    data: JsonObject | None = None
    errors: list[DataApiError] = field(default_factory=list)

    def to_json(self, names: ErrorNames) -> JsonObject:
        """The response body."""
        body: JsonObject = {}
        if self.data is not None:
            body["data"] = self.data
        if self.status is not None:
            body["status"] = self.status
        if self.errors:
            body["errors"] = [error.to_json(names) for error in self.errors]
        return body


def ok() -> CommandResult:
    return CommandResult(status={"ok": 1})


def _object(value: JsonValue) -> JsonObject:
    return value if isinstance(value, dict) else {}


# Reading a command's fields -----------------------------------------------------------------------


class Fields:
    """The fields of a command (or of its ``options``), refusing names the command does not know."""

    def __init__(
        self, where: str, values: JsonObject, known: Collection[str], options: Collection[str] = ()
    ) -> None:
        """``where`` names the object in error messages (``find``, ``find.options``); ``known`` are
        its field names and ``options`` the names its ``options`` object may hold."""
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise DataApiError(
                ErrorCode.COMMAND_FIELD_UNKNOWN,
                f"Command field '{where}.{unknown[0]}' not recognized: known fields are "
                f"{', '.join(sorted(known)) or 'none'}.",
            )
        self._where = where
        self._values = values
        self._options = options

    def _name(self, name: str) -> str:
        return f"{self._where}.{name}"

    def raw(self, name: str) -> JsonValue:
        """The value as sent; None when absent or null."""
        return self._values.get(name)

    def required(self, name: str) -> JsonValue:
        """The value, which must be present and not null."""
        value = self._values.get(name)
        if value is None:
            raise field_invalid(self._name(name), "must not be null")
        return value

    def options(self) -> Fields:
        """The ``options`` object (empty when absent)."""
        raw = self._values.get("options")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise field_invalid(self._name("options"), "must be a JSON object")
        return Fields(self._name("options"), raw, self._options)

    def boolean(self, name: str, default: bool) -> bool:
        """A true/false field."""
        value = self._values.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise field_invalid(self._name(name), "must be true or false")
        return value

    def integer(self, name: str, minimum: int) -> int | None:
        """A whole-number field of at least ``minimum``; None when absent."""
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise field_invalid(self._name(name), f"must be an integer of at least {minimum}")
        return value

    def string(self, name: str) -> str | None:
        """A text field; None when absent."""
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise field_invalid(self._name(name), "must be a string")
        return value

    def name(self, field_name: str = "name") -> str:
        """A keyspace or collection name: 1 to 48 letters, digits or underscores."""
        value = self.required(field_name)
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise field_invalid(self._name(field_name), "must be 1 to 48 letters, digits or underscores")
        return value


Handler = Callable[[Fields], CommandResult]


def command_fields(level: Level, name: str, payload: JsonObject) -> Fields:
    """The fields of a command this level runs; ``COMMAND_UNKNOWN`` for any other name."""
    specs = specs_at(level)
    spec = specs.get(name)
    if spec is None:
        words = _LEVEL_WORDS[level]
        raise DataApiError(
            ErrorCode.COMMAND_UNKNOWN,
            f"Command '{name}' is not a {words} command recognized by Data API. "
            f"Data API supports the following {words} commands: {', '.join(sorted(specs))}.",
        )
    return Fields(name, payload, spec.fields, spec.options)


def check_handlers(level: Level, handlers: Mapping[str, object]) -> None:
    """Fail at start-up when a level's handlers and the catalogue do not name the same commands."""
    listed = set(specs_at(level))
    if set(handlers) != listed:
        raise RuntimeError(f"{level} commands: handlers for {sorted(handlers)}, catalogue {sorted(listed)}")


# Schema errors -----------------------------------------------------------------------------------


def unknown_keyspace(keyspace: str) -> DataApiError:
    """The error for a keyspace that does not exist."""
    return DataApiError(
        ErrorCode.UNKNOWN_KEYSPACE,
        f"The command tried to use a Keyspace that does not exist in the Database. "
        f"The keyspace used by the command: {keyspace}.",
    )


@contextmanager
def schema_errors(keyspace: str, collection: str = "") -> Iterator[None]:
    """Turn the storage engine's missing keyspace or collection into the Data API's errors."""
    try:
        yield
    except NamespaceNotFound:
        raise unknown_keyspace(keyspace) from None
    except CollectionNotFound:
        raise DataApiError(
            ErrorCode.UNKNOWN_COLLECTION_OR_TABLE,
            f"No collection or table with name '{collection}' exists in keyspace '{keyspace}'.",
        ) from None


# General and keyspace levels ---------------------------------------------------------------------


class DatabaseCommands:
    """``/v1``: keyspaces (and their deprecated ``*Namespace*`` names)."""

    def __init__(self, store: EmulatorStore) -> None:
        """Serve the keyspaces of ``store``."""
        self._store = store
        self._handlers: dict[str, Handler] = {}
        for noun, listing in (("Keyspace", "keyspaces"), ("Namespace", "namespaces")):
            self._handlers[f"create{noun}"] = self._create
            self._handlers[f"drop{noun}"] = self._drop
            self._handlers[f"find{noun}s"] = self._lister(listing)
        for providers in ("embeddingProviders", "rerankingProviders"):
            self._handlers[f"find{providers[0].upper()}{providers[1:]}"] = self._no_providers(providers)
        check_handlers("database", self._handlers)

    def run(self, name: str, payload: JsonObject) -> CommandResult:
        """Run one command."""
        fields = command_fields("database", name, payload)
        return self._handlers[name](fields)

    def _create(self, fields: Fields) -> CommandResult:
        name = fields.name()
        fields.options()  # replication: accepted, meaningless for one local node
        self._store.create_namespace(name)
        return ok()

    def _drop(self, fields: Fields) -> CommandResult:
        self._store.drop_namespace(fields.name())
        return ok()

    @staticmethod
    def _no_providers(key: str) -> Handler:
        def find(fields: Fields) -> CommandResult:
            fields.options()
            return CommandResult(status={key: {}})

        return find

    def _lister(self, key: str) -> Handler:
        def find(_fields: Fields) -> CommandResult:
            names: list[JsonValue] = list(self._store.list_namespaces())
            return CommandResult(status={key: names})

        return find


class KeyspaceCommands:
    """``/v1/{keyspace}``: collections."""

    def __init__(self, store: EmulatorStore) -> None:
        """Serve the collections of ``store``."""
        self._store = store
        self._handlers: dict[str, Callable[[str, Fields], CommandResult]] = {
            "createCollection": self._create,
            "findCollections": self._find,
            "deleteCollection": self._delete,
            "listTables": self._empty("tables"),
            "listTypes": self._empty("types"),
        }
        check_handlers("keyspace", self._handlers)

    def run(self, keyspace: str, name: str, payload: JsonObject) -> CommandResult:
        """Run one command in ``keyspace``."""
        with schema_errors(keyspace):
            if not self._store.namespace_exists(keyspace):
                raise NamespaceNotFound(keyspace)
            fields = command_fields("keyspace", name, payload)
            return self._handlers[name](keyspace, fields)

    def _create(self, keyspace: str, fields: Fields) -> CommandResult:
        name = fields.name()
        fields.options()  # only the options the catalogue lists
        schema = CollectionSchema.parse(_object(fields.raw("options")))
        if not self._store.create_collection(keyspace, STORAGE_PREFIX + name, schema.to_json()):
            existing = CollectionSchema.of(self._store.collection_options(keyspace, STORAGE_PREFIX + name))
            if existing != schema:
                raise DataApiError(
                    ErrorCode.EXISTING_COLLECTION_DIFFERENT_SETTINGS,
                    f"Collection '{name}' already exists but with settings different from ones passed "
                    "with 'createCollection' command.",
                )
        return ok()

    def _find(self, keyspace: str, fields: Fields) -> CommandResult:
        explain = fields.options().boolean("explain", False)
        names = [
            name[len(STORAGE_PREFIX) :]
            for name in self._store.list_collections(keyspace)
            if name.startswith(STORAGE_PREFIX)
        ]
        if not explain:
            return CommandResult(status={"collections": list[JsonValue](names)})
        described: list[JsonValue] = [
            {"name": name, "options": self._schema(keyspace, name).described()} for name in names
        ]
        return CommandResult(status={"collections": described})

    def _schema(self, keyspace: str, name: str) -> CollectionSchema:
        try:
            return CollectionSchema.of(self._store.collection_options(keyspace, STORAGE_PREFIX + name))
        except CollectionNotFound:  # dropped since it was listed
            return CollectionSchema()

    @staticmethod
    def _empty(listing: str) -> Callable[[str, Fields], CommandResult]:
        def answer(_keyspace: str, fields: Fields) -> CommandResult:
            fields.options().boolean("explain", False)
            return CommandResult(status={listing: []})

        return answer

    def _delete(self, keyspace: str, fields: Fields) -> CommandResult:
        self._store.drop_collection(keyspace, STORAGE_PREFIX + fields.name())
        return ok()
