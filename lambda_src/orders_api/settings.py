"""Store settings, read from the environment and validated once, with errors that name the variable."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from orders_api.errors import ConfigurationError
from orders_api.store.tokens import header_safe

# "data": the Astra DB Data API (what Astra speaks today); "documents": the Stargate Document API v2
# (self-hosted Stargate; retired on Astra at the end of 2025).
StoreApi = Literal["data", "documents"]
STORE_APIS: tuple[StoreApi, ...] = ("data", "documents")
DEFAULT_STORE_API: StoreApi = "data"


@dataclass(frozen=True)
class Credentials:
    """Where the store token comes from: exactly one of secret id, token, or username and password."""

    secret_id: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        # Never print a token or password, even in a traceback.
        return f"Credentials(secret_id={self.secret_id!r}, token={'***' if self.token else None})"


@dataclass(frozen=True)
class StoreSettings:
    """Everything the order store needs to know, checked once at first use."""

    store_api: StoreApi
    base_url: str
    auth_url: str | None
    namespace: str
    collection: str
    credentials: Credentials
    secret_max_age: int
    connect_timeout: float
    read_timeout: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreSettings:
        """Read ``STARGATE_*`` and friends; raise ConfigurationError naming each bad variable."""
        env = os.environ if env is None else env
        problems: list[str] = []

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        store_api = get("ORDERS_STORE_API", DEFAULT_STORE_API)
        if store_api not in STORE_APIS:
            problems.append(f"ORDERS_STORE_API must be one of {', '.join(STORE_APIS)}")

        base_url = get("STARGATE_URL")
        if base_url is None:
            problems.append("STARGATE_URL is not set")
        elif not _is_http_url(base_url):
            problems.append("STARGATE_URL must be an http(s) URL")

        auth_url = get("STARGATE_AUTH_URL")
        if auth_url is not None and not _is_http_url(auth_url):
            problems.append("STARGATE_AUTH_URL must be an http(s) URL")

        namespace = get("STARGATE_NAMESPACE")
        if namespace is None:
            problems.append("STARGATE_NAMESPACE is not set")
        elif not _is_identifier(namespace, 48):
            problems.append("STARGATE_NAMESPACE must be letters, digits or underscores (at most 48)")

        collection = get("STARGATE_COLLECTION", "orders") or "orders"
        if not _is_identifier(collection, 48):
            problems.append("STARGATE_COLLECTION must be letters, digits or underscores (at most 48)")

        credentials = Credentials(
            secret_id=get("STARGATE_SECRET_ID"),
            token=get("STARGATE_TOKEN"),
            username=get("STARGATE_USERNAME"),
            password=env.get("STARGATE_PASSWORD") or None,
        )
        if credentials.token is not None and not header_safe(credentials.token):
            problems.append(
                "STARGATE_TOKEN has characters a token cannot have (spaces, line breaks, control or "
                "non-ASCII characters)"
            )
        given = [
            credentials.secret_id is not None,
            credentials.token is not None,
            credentials.username is not None or credentials.password is not None,
        ]
        if sum(given) != 1:
            problems.append(
                "set exactly one of STARGATE_SECRET_ID, STARGATE_TOKEN, or STARGATE_USERNAME with "
                "STARGATE_PASSWORD"
            )
        elif (credentials.username is None) != (credentials.password is None):
            problems.append("STARGATE_USERNAME and STARGATE_PASSWORD go together")

        secret_max_age = _positive("SECRET_MAX_AGE_SECONDS", get("SECRET_MAX_AGE_SECONDS"), 300, problems)
        if not float(secret_max_age).is_integer():
            # Powertools caches nothing for a max age below 1 s: every call would read the secret.
            problems.append("SECRET_MAX_AGE_SECONDS must be a whole number of seconds")
        connect_timeout = _positive(
            "STARGATE_CONNECT_TIMEOUT", get("STARGATE_CONNECT_TIMEOUT"), 3.05, problems
        )
        read_timeout = _positive("STARGATE_READ_TIMEOUT", get("STARGATE_READ_TIMEOUT"), 8.0, problems)

        if problems:
            raise ConfigurationError("Invalid store configuration: " + "; ".join(problems) + ".")
        assert base_url is not None
        assert namespace is not None
        return cls(
            store_api="documents" if store_api == "documents" else "data",
            base_url=base_url.rstrip("/"),
            auth_url=auth_url.rstrip("/") if auth_url else None,
            namespace=namespace,
            collection=collection,
            credentials=credentials,
            secret_max_age=int(secret_max_age),
            connect_timeout=float(connect_timeout),
            read_timeout=float(read_timeout),
        )


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_identifier(value: str, max_length: int) -> bool:
    return 0 < len(value) <= max_length and all(c.isascii() and (c.isalnum() or c == "_") for c in value)


def _positive(name: str, raw: str | None, default: float, problems: list[str]) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not math.isfinite(value) or value <= 0:
        problems.append(f"{name} must be a positive number")
    return value
