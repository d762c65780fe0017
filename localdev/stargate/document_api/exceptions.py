"""The Document API's errors: ``{"description": ..., "code": status}`` bodies, each built in one place."""

from __future__ import annotations

from localdev.stargate.core.routing import ApiError, empty_response, json_response


def docs_error(status: int, description: str) -> ApiError:
    """The Document API's error: ``{"description": ..., "code": status}``."""
    return ApiError(json_response(status, {"description": description, "code": status}))


def document_not_found() -> ApiError:
    """v1 answers a missing document with 404 and no body at all."""
    return ApiError(empty_response(404))


def unauthorized(reason: str) -> ApiError:
    """The Document API's 401."""
    return docs_error(401, f"Role unauthorized for operation: {reason}")


def namespace_not_found(namespace: str) -> ApiError:
    """A read under a namespace that does not exist."""
    return docs_error(404, f"Namespace {namespace} does not exist.")


def unknown_namespace_on_write(namespace: str) -> ApiError:
    """A write under a namespace that does not exist (writes never create namespaces)."""
    return docs_error(404, f"Unknown namespace {namespace}, you must create it first.")


def collection_not_found(collection: str) -> ApiError:
    """A read of a collection that does not exist."""
    return docs_error(404, f"Collection {collection} does not exist.")
