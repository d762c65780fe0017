"""The Astra Data API dialect: ``POST /api/json/v1[/{keyspace}[/{collection}]]``, one JSON command each.

Clients use ``http://host:port/api/json`` as their base URL, as they would use
``https://{db}-{region}.apps.astra.datastax.com/api/json``; the same commands are also served under
``/v1``, where a self-hosted Data API serves them (astrapy's non-Astra environments post there).
Behaviour follows the real Data API's: HTTP 401 for a missing or rejected token, 415 for a body that is
not declared JSON, 404/405 from the router, and HTTP 200 with an ``errors`` array for everything else
that goes wrong. The contract is written down in ``docs/stores/data-api.md``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from localdev.stargate.core.auth import TOKEN_HEADER, TokenAuthority
from localdev.stargate.core.database import DatabaseClosed
from localdev.stargate.core.routing import Request, Response, Route, json_response
from localdev.stargate.core.storage import EmulatorStore
from localdev.stargate.core.values import JsonObject, parse_strict
from localdev.stargate.data_api.collection import DATA_API_FIND_PAGE_SIZE, CollectionCommands
from localdev.stargate.data_api.commands import CommandResult, DatabaseCommands, KeyspaceCommands
from localdev.stargate.data_api.exceptions import ERROR_NAME_STYLES, DataApiError, ErrorCode, ErrorNames

DATA_API_PREFIX = "/api/json/v1"
# Where a self-hosted Data API serves the same commands, and where astrapy's non-Astra environments post.
# POST /v1/auth stays Stargate's token endpoint: a keyspace named "auth" is reached under /api/json/v1.
SELF_HOSTED_PREFIX = "/v1"
PREFIXES = (DATA_API_PREFIX, SELF_HOSTED_PREFIX)
DATA_API_TOKEN_HEADER = "Token"  # noqa: S105 - a header name, not a secret
MAX_PAGE_SIZE = 1000
MAX_LATENCY_MS = 60_000


@dataclass(frozen=True)
class DataApiSettings:
    """Server settings of the Data API dialect.

    ``page_size``: documents per ``find`` page (the real server used 20, and 50 from v1.0.48).
    ``error_names``: ``"current"`` error codes, or the ``"legacy"`` names from before the 2026 rename
    (``COLLECTION_NOT_EXIST``, ``KEYSPACE_DOES_NOT_EXIST``, ...), so clients can be tested against both.
    ``latency_ms``: how late each command is answered (0: at once), so clients' timeouts can be tested
    as against a remote database.
    """

    page_size: int = DATA_API_FIND_PAGE_SIZE
    error_names: ErrorNames = "current"
    latency_ms: int = 0

    def __post_init__(self) -> None:
        """Refuse settings the server cannot honour, at start-up rather than on the first request."""
        if isinstance(self.page_size, bool) or not isinstance(self.page_size, int):
            raise ValueError(f"data_api_page_size must be an integer, got {self.page_size!r}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(
                f"data_api_page_size must be between 1 and {MAX_PAGE_SIZE}, got {self.page_size}"
            )
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(
                f"data_api_latency_ms must be between 0 and {MAX_LATENCY_MS}, got {self.latency_ms}"
            )
        if self.error_names not in ERROR_NAME_STYLES:
            choices = ", ".join(ERROR_NAME_STYLES)
            raise ValueError(f"data_api_error_names must be one of {choices}, got {self.error_names!r}")


def parse_command(body: bytes) -> tuple[str, JsonObject]:
    """The command name and its payload: a body must be a JSON object with exactly one key."""
    try:
        value = parse_strict(body, finite_numbers=True, exact_numbers=True)
    except (ValueError, RecursionError) as error:
        raise DataApiError(
            ErrorCode.REQUEST_NOT_JSON, f"Request not valid JSON, problem: {error.__class__.__name__}."
        ) from None
    if not isinstance(value, dict) or len(value) != 1:
        raise DataApiError(
            ErrorCode.REQUEST_STRUCTURE_MISMATCH,
            "Request is valid JSON but has a structural mismatch: the body must be a JSON object "
            "holding exactly one command.",
        )
    ((name, payload),) = value.items()
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise DataApiError(
            ErrorCode.REQUEST_STRUCTURE_MISMATCH,
            f"Request is valid JSON but has a structural mismatch: command '{name}' must hold a JSON object.",
        )
    return name, payload


def _is_json(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == "application/json"


def _is_lock_timeout(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite gave up waiting for another writer (the busy timeout), rather than failing."""
    return "locked" in str(error) or "busy" in str(error)


Command = Callable[[Mapping[str, str], str, JsonObject], CommandResult]


class DataApi:
    """Handlers for the three levels of the Data API under ``/api/json/v1``."""

    def __init__(
        self,
        store: EmulatorStore,
        authority: TokenAuthority,
        settings: DataApiSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Serve ``store`` to requests whose token ``authority`` accepts."""
        self._authority = authority
        self._settings = settings or DataApiSettings()
        self._database = DatabaseCommands(store)
        self._keyspaces = KeyspaceCommands(store)
        self._collections = CollectionCommands(store, page_size=self._settings.page_size, clock=clock)

    def routes(self) -> list[Route]:
        """The three ``POST`` endpoints, under Astra's path and a self-hosted Data API's."""
        return [
            route
            for prefix in PREFIXES
            for route in (
                Route(prefix, {"POST": self._endpoint(self._general)}),
                Route(prefix + "/{keyspace}", {"POST": self._endpoint(self._keyspace)}),
                Route(prefix + "/{keyspace}/{collection}", {"POST": self._endpoint(self._collection)}),
            )
        ]

    def _general(self, _params: Mapping[str, str], name: str, payload: JsonObject) -> CommandResult:
        return self._database.run(name, payload)

    def _keyspace(self, params: Mapping[str, str], name: str, payload: JsonObject) -> CommandResult:
        return self._keyspaces.run(params["keyspace"], name, payload)

    def _collection(self, params: Mapping[str, str], name: str, payload: JsonObject) -> CommandResult:
        return self._collections.run(params["keyspace"], params["collection"], name, payload)

    def _endpoint(self, command: Command) -> Callable[[Request, Mapping[str, str]], Response]:
        def handle(request: Request, params: Mapping[str, str]) -> Response:
            names = self._settings.error_names
            if self._settings.latency_ms:
                time.sleep(self._settings.latency_ms / 1000)
            try:
                self._authorize(request)
                if not _is_json(request.header("Content-Type")):
                    raise DataApiError(
                        ErrorCode.UNSUPPORTED_CONTENT_TYPE,
                        "Request sent with unsupported 'Content-Type' header: "
                        f"{request.header('Content-Type') or '(none)'}; use application/json.",
                        http_status=415,
                    )
                name, payload = parse_command(request.body)
                result = command(params, name, payload)
            except DataApiError as error:
                return json_response(error.http_status, {"errors": [error.to_json(names)]})
            except sqlite3.OperationalError as error:
                if not _is_lock_timeout(error):
                    raise
                timeout = DataApiError(
                    ErrorCode.TIMEOUT_WRITING_DATA, "Timed out waiting for the database; it is safe to retry."
                )
                result = CommandResult(errors=[timeout])
            except DatabaseClosed:
                result = CommandResult(
                    errors=[DataApiError(ErrorCode.UNAVAILABLE_DATABASE, "The database is shutting down.")]
                )
            return json_response(200, result.to_json(names))

        return handle

    def _authorize(self, request: Request) -> None:
        """``Token`` (or ``X-Cassandra-Token`` when ``Token`` is absent) must be accepted; else 401."""
        token = request.header(DATA_API_TOKEN_HEADER)
        if token is None:
            token = request.header(TOKEN_HEADER)
        reason = self._authority.rejection((token or "").strip(), allow_credentials=True)
        if reason is not None:
            raise DataApiError(
                ErrorCode.UNAUTHENTICATED_REQUEST,
                f"Authentication failed for request due to invalid token: {reason}; "
                "send one in the 'Token' header.",
                http_status=401,
            )
