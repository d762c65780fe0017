"""The Data API's errors: one catalogue of codes, and the ``{"errors": [...]}`` objects built from it.

Almost every Data API error is an HTTP 200 whose body holds an ``errors`` array; only auth (401) and
content type (415) change the status. The server renamed several codes in 2026, so each code knows
its older name too, and a server setting picks which of the two is written (see ``ErrorNames``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from typing import Literal, get_args

from localdev.stargate.core.values import JsonObject, JsonValue

ErrorNames = Literal["current", "legacy"]
ERROR_NAME_STYLES: tuple[str, ...] = get_args(ErrorNames)


@enum.unique
class ErrorCode(enum.Enum):
    """A Data API error code: its family, scope, title and, when it was renamed, its older name."""

    # Request structure and commands
    UNAUTHENTICATED_REQUEST = ("REQUEST", "SECURITY", "Authentication failed", None)
    UNSUPPORTED_CONTENT_TYPE = ("REQUEST", "", "Unsupported Content-Type", None)
    REQUEST_NOT_JSON = ("REQUEST", "", "Request not valid JSON", "INVALID_REQUEST_NOT_JSON")
    REQUEST_STRUCTURE_MISMATCH = (
        "REQUEST",
        "",
        "Request structure not valid",
        "INVALID_REQUEST_STRUCTURE_MISMATCH",
    )
    COMMAND_UNKNOWN = ("REQUEST", "", "Command is not recognized by Data API", "NO_COMMAND_MATCHED")
    COMMAND_FIELD_UNKNOWN = ("REQUEST", "", "Command field unknown", None)
    COMMAND_FIELD_VALUE_INVALID = ("REQUEST", "", "Command field value invalid", "COMMAND_FIELD_INVALID")
    # Schema
    UNKNOWN_KEYSPACE = (
        "REQUEST",
        "SCHEMA",
        "Keyspace does not exist in the Database",
        "KEYSPACE_DOES_NOT_EXIST",
    )
    UNKNOWN_COLLECTION_OR_TABLE = (
        "REQUEST",
        "SCHEMA",
        "Collection or table does not exist",
        "COLLECTION_NOT_EXIST",
    )
    EXISTING_COLLECTION_DIFFERENT_SETTINGS = (
        "REQUEST",
        "SCHEMA",
        "Collection already exists with different settings",
        None,
    )
    INVALID_CREATE_COLLECTION_OPTIONS = ("REQUEST", "SCHEMA", "Invalid options for createCollection", None)
    INVALID_INDEXING_DEFINITION = ("REQUEST", "SCHEMA", "Invalid indexing definition", None)
    UNKNOWN_VECTOR_METRIC = ("REQUEST", "SCHEMA", "Vector metric is unknown", None)
    VECTOR_SEARCH_NOT_SUPPORTED = ("REQUEST", "SCHEMA", "Vector search not enabled for collection", None)
    # Features of the real Data API this server answers as a database without them would
    VECTORIZE_FEATURE_NOT_AVAILABLE = ("REQUEST", "SCHEMA", "Vectorize feature not available", None)
    LEXICAL_FEATURE_NOT_ENABLED = (
        "REQUEST",
        "SCHEMA",
        "Lexical search is not available on this database",
        None,
    )
    LEXICAL_NOT_ENABLED_FOR_COLLECTION = (
        "REQUEST",
        "SCHEMA",
        "Lexical search is not enabled for the collection",
        None,
    )
    RERANKING_FEATURE_NOT_ENABLED = ("REQUEST", "SCHEMA", "Reranking feature not enabled", None)
    # Documents
    DOCUMENT_ALREADY_EXISTS = ("REQUEST", "DOCUMENT", "Document the given _id already exists", None)
    DOCUMENT_REPLACE_DIFFERENT_DOCID = (
        "REQUEST",
        "DOCUMENT",
        "Replacement document has a different _id",
        None,
    )
    SHRED_BAD_DOCUMENT_TYPE = ("REQUEST", "DOCUMENT", "Bad document type to shred", None)
    SHRED_BAD_DOCID_TYPE = ("REQUEST", "DOCUMENT", "Bad type for '_id' field", None)
    SHRED_BAD_FIELD_NAME = ("REQUEST", "DOCUMENT", "Document field name not valid", None)
    SHRED_BAD_VECTOR_SIZE = ("REQUEST", "DOCUMENT", "Bad $vector value: empty", None)
    SHRED_BAD_VECTOR_VALUE = ("REQUEST", "DOCUMENT", "Bad $vector value", None)
    SHRED_BAD_BINARY_VECTOR_VALUE = ("REQUEST", "DOCUMENT", "Bad binary vector value to shred", None)
    INVALID_VECTOR_LENGTH = ("REQUEST", "DOCUMENT", "Vector values in documents are not valid", None)
    SHRED_BAD_EJSON_VALUE = ("REQUEST", "DOCUMENT", "Bad JSON Extension value to shred", None)
    SHRED_DOC_LIMIT_VIOLATION = ("REQUEST", "DOCUMENT", "Document size limitation violated", None)
    # Filter, sort, projection, update
    FILTER_INVALID_EXPRESSION = (
        "REQUEST",
        "FILTER",
        "Unsupported filter clause",
        "INVALID_FILTER_EXPRESSION",
    )
    FILTER_UNSUPPORTED_OPERATOR = (
        "REQUEST",
        "FILTER",
        "Unsupported filter operator",
        "UNSUPPORTED_FILTER_OPERATION",
    )
    FILTER_PATH_UNINDEXED = (
        "REQUEST",
        "FILTER",
        "Collection path used in filter clause not indexed",
        "UNINDEXED_FILTER_PATH",
    )
    INVALID_SORT_CLAUSE = ("REQUEST", "SORT", "Invalid sort clause", None)
    SORT_CLAUSE_PATH_UNINDEXED = (
        "REQUEST",
        "SORT",
        "Collection field used in sort clause not indexed",
        "UNINDEXED_SORT_PATH",
    )
    UNSUPPORTED_PROJECTION_PARAM = ("REQUEST", "PROJECTION", "Unsupported projection parameter", None)
    UNSUPPORTED_UPDATE_OPERATION = ("REQUEST", "UPDATE", "Unsupported update operation", None)
    UNSUPPORTED_UPDATE_OPERATION_PARAM = ("REQUEST", "UPDATE", "Unsupported update operation parameter", None)
    UNSUPPORTED_UPDATE_OPERATION_PATH = ("REQUEST", "UPDATE", "Unsupported update operation path", None)
    UNSUPPORTED_UPDATE_OPERATION_TARGET = (
        "REQUEST",
        "UPDATE",
        "Unsupported target JSON value for update operation",
        None,
    )
    UNSUPPORTED_UPDATE_OPERATOR_FOR_DOC_ID = (
        "REQUEST",
        "UPDATE",
        "Update operators cannot be used on _id field",
        "UNSUPPORTED_UPDATE_FOR_DOC_ID",
    )
    # Server side
    TIMEOUT_WRITING_DATA = ("SERVER", "DATABASE", "Timeout writing data", "SERVER_DRIVER_TIMEOUT")
    UNAVAILABLE_DATABASE = ("SERVER", "DATABASE", "Database unavailable", "SERVER_NO_NODE_AVAILABLE")
    # Never sent here (SQLite serializes writes, so no race is lost), but kept: the astrapy suite reads
    # real servers' answers through this catalogue's legacy names (CONCURRENCY_FAILURE).
    FAILED_CONCURRENT_OPERATIONS = (
        "SERVER",
        "DATABASE",
        "Failed concurrent operations",
        "CONCURRENCY_FAILURE",
    )

    def __init__(self, family: str, scope: str, title: str, legacy_name: str | None) -> None:
        self.family = family
        self.scope = scope
        self.title = title
        self.legacy_name = legacy_name

    def spelled(self, names: ErrorNames) -> str:
        """The code as written in a response under the given naming."""
        if names == "legacy" and self.legacy_name is not None:
            return self.legacy_name
        return self.name


class DataApiError(Exception):
    """A failed command (or request), answered as one entry of ``errors``."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        http_status: int = 200,
        document_ids: Sequence[JsonValue] | None = None,
    ) -> None:
        """``http_status`` stays 200 except for the few errors that change it (401, 415)."""
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.document_ids = list(document_ids) if document_ids is not None else None

    def to_json(self, names: ErrorNames) -> JsonObject:
        """The error object: id, family, scope, errorCode, title, message (and documentIds)."""
        body: JsonObject = {
            "id": str(uuid.uuid4()),
            "family": self.code.family,
            "scope": self.code.scope,
            "errorCode": self.code.spelled(names),
            "title": self.code.title,
            "message": self.message,
        }
        if self.document_ids is not None:
            body["documentIds"] = list(self.document_ids)
        return body


def field_invalid(field: str, problem: str) -> DataApiError:
    """A command field with a value the command cannot use."""
    return DataApiError(
        ErrorCode.COMMAND_FIELD_VALUE_INVALID, f"Command field '{field}' value not valid: {problem}."
    )


def filter_invalid(problem: str) -> DataApiError:
    """A filter that is not a valid filter expression."""
    return DataApiError(ErrorCode.FILTER_INVALID_EXPRESSION, f"Unsupported filter clause: {problem}.")


def filter_unsupported(operator: str) -> DataApiError:
    """A filter operator this API does not support."""
    return DataApiError(ErrorCode.FILTER_UNSUPPORTED_OPERATOR, f"Unsupported filter operator '{operator}'.")


def update_error(code: ErrorCode, problem: str) -> DataApiError:
    """An update clause the command cannot apply."""
    return DataApiError(code, f"{code.title}: {problem}")


def document_error(code: ErrorCode, problem: str) -> DataApiError:
    """A document (or value inside one) that cannot be stored."""
    return DataApiError(code, f"{code.title}: {problem}.")
