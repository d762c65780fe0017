"""Names and values the function shares with the CDK app, localdev, the benchmarks and the tests.

Each environment variable the function reads is named here once, as a constant of the same name, so
that the stack that sets it (``cdk_app/function.py``), ``make run`` (``localdev/run.py``), the
benchmarks and the tests cannot drift from the code that reads it. This module imports nothing from
the package and does nothing when imported.
"""

# ruff: noqa: S105 - names of variables that hold secrets, not secrets

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

# --- the order store -------------------------------------------------------------------------------

# Which API the store speaks: "data", the Astra DB Data API (what Astra serves today), or "documents",
# the Stargate Document API v2 (self-hosted Stargate; retired on Astra at the end of 2025).
ORDERS_STORE_API: Final = "ORDERS_STORE_API"
StoreApi = Literal["data", "documents"]
DATA_API: Final = "data"
DOCUMENT_API: Final = "documents"
STORE_APIS: Final[tuple[StoreApi, ...]] = (DATA_API, DOCUMENT_API)
DEFAULT_STORE_API: Final[StoreApi] = DATA_API

# Where the store is and how to sign in to it (a Data API endpoint or a Stargate, hence "STORE_").
STORE_URL: Final = "STORE_URL"
STORE_AUTH_URL: Final = "STORE_AUTH_URL"
STORE_NAMESPACE: Final = "STORE_NAMESPACE"
STORE_COLLECTION: Final = "STORE_COLLECTION"
STORE_SECRET_ID: Final = "STORE_SECRET_ID"
STORE_TOKEN: Final = "STORE_TOKEN"
STORE_USERNAME: Final = "STORE_USERNAME"
STORE_PASSWORD: Final = "STORE_PASSWORD"
STORE_CONNECT_TIMEOUT: Final = "STORE_CONNECT_TIMEOUT"
STORE_READ_TIMEOUT: Final = "STORE_READ_TIMEOUT"
DEFAULT_COLLECTION: Final = "orders"

# The names these settings had before they were renamed, each still read (with a warning) when the
# new one is not set. New name -> old name.
FORMER_NAMES: Final[Mapping[str, str]] = {
    STORE_URL: "STARGATE_URL",
    STORE_AUTH_URL: "STARGATE_AUTH_URL",
    STORE_NAMESPACE: "STARGATE_NAMESPACE",
    STORE_COLLECTION: "STARGATE_COLLECTION",
    STORE_SECRET_ID: "STARGATE_SECRET_ID",
    STORE_TOKEN: "STARGATE_TOKEN",
    STORE_USERNAME: "STARGATE_USERNAME",
    STORE_PASSWORD: "STARGATE_PASSWORD",
    STORE_CONNECT_TIMEOUT: "STARGATE_CONNECT_TIMEOUT",
    STORE_READ_TIMEOUT: "STARGATE_READ_TIMEOUT",
}

# --- secrets ---------------------------------------------------------------------------------------

# How long a secret read through the Parameters and Secrets extension is kept (seconds): the function's
# own cache and the extension's (SECRETS_MANAGER_TTL) use the same age.
SECRET_MAX_AGE_SECONDS: Final = "SECRET_MAX_AGE_SECONDS"
DEFAULT_SECRET_MAX_AGE: Final = 300
# The key that seals list cursors: a secret (deployed) or the key itself (local runs and tests).
CURSOR_SECRET_ID: Final = "CURSOR_SECRET_ID"
CURSOR_KEY: Final = "CURSOR_KEY"

# --- callers ---------------------------------------------------------------------------------------

# How callers are told apart ("iam", "jwt" or "none"), the same mode as the API's authorizer.
ORDERS_API_AUTH: Final = "ORDERS_API_AUTH"
# IAM principals (comma-separated ARNs) that act on every order in "iam" mode.
ADMIN_PRINCIPALS: Final = "ADMIN_PRINCIPALS"

# --- observability ---------------------------------------------------------------------------------

POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"
POWERTOOLS_TRACE_DISABLED: Final = "POWERTOOLS_TRACE_DISABLED"
SERVICE_NAME: Final = "orders"
METRICS_NAMESPACE: Final = "OrdersApi"
# The function's own failures (its 500 answers: an unexpected error, a misconfiguration), counted per
# function version (dimensions "service" and "version"): a release rolls back on a new version's count.
SERVER_ERROR_METRIC: Final = "ServerError"
VERSION_DIMENSION: Final = "version"
# A request whose checks before routing raised unexpectedly: answered 400 (only the caller's input had
# been read), counted here for the operators' alarm, never as the version's own failure.
UNREADABLE_REQUEST_METRIC: Final = "UnreadableRequest"

# --- start-up --------------------------------------------------------------------------------------

# "__all__": pydantic loads no plugins, so its first model does not read every installed package's
# metadata looking for them (the function uses none).
PYDANTIC_DISABLE_PLUGINS: Final = "PYDANTIC_DISABLE_PLUGINS"
NO_PYDANTIC_PLUGINS: Final = "__all__"

# --- HTTP ------------------------------------------------------------------------------------------

JSON: Final = "application/json"
# The route that serves the OpenAPI document; it is not part of the document itself.
OPENAPI_PATH: Final = "/openapi.json"
