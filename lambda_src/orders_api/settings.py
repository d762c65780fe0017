"""Store settings, read from the environment and validated once, with errors that name the variable.

The ``STORE_*`` variables were called ``STARGATE_*`` before; a former name still works, with one warning
per process that names the new one, until the deployments that set it have moved on.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from orders_api import names
from orders_api.errors import ConfigurationError
from orders_api.names import DEFAULT_STORE_API, FORMER_NAMES, STORE_APIS, StoreApi
from orders_api.observability import logger
from orders_api.store.tokens import header_safe

# Former names already warned about in this process: a warm function warns once, not per request.
_warned: set[str] = set()


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


class StoreSettings(NamedTuple):
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
        """Read ``STORE_*`` and friends; raise ConfigurationError naming each bad variable."""
        env = os.environ if env is None else env
        problems: list[str] = []

        def get(name: str, default: str | None = None) -> str | None:
            value = _value(env, name, problems, strip=True)
            return value or default

        store_api = get(names.ORDERS_STORE_API, DEFAULT_STORE_API)
        if store_api not in STORE_APIS:
            problems.append(f"{names.ORDERS_STORE_API} must be one of {', '.join(STORE_APIS)}")

        base_url = get(names.STORE_URL)
        if base_url is None:
            problems.append(f"{names.STORE_URL} is not set")
        elif not _is_http_url(base_url):
            problems.append(f"{names.STORE_URL} must be an http(s) URL")

        auth_url = get(names.STORE_AUTH_URL)
        if auth_url is not None and not _is_http_url(auth_url):
            problems.append(f"{names.STORE_AUTH_URL} must be an http(s) URL")

        namespace = get(names.STORE_NAMESPACE)
        if namespace is None:
            problems.append(f"{names.STORE_NAMESPACE} is not set")
        elif not _is_identifier(namespace, 48):
            problems.append(f"{names.STORE_NAMESPACE} must be letters, digits or underscores (at most 48)")

        collection = get(names.STORE_COLLECTION, names.DEFAULT_COLLECTION) or names.DEFAULT_COLLECTION
        if not _is_identifier(collection, 48):
            problems.append(f"{names.STORE_COLLECTION} must be letters, digits or underscores (at most 48)")

        credentials = Credentials(
            secret_id=get(names.STORE_SECRET_ID),
            token=get(names.STORE_TOKEN),
            username=get(names.STORE_USERNAME),
            password=_value(env, names.STORE_PASSWORD, problems, strip=False) or None,
        )
        if credentials.token is not None and not header_safe(credentials.token):
            problems.append(
                f"{names.STORE_TOKEN} has characters a token cannot have (spaces, line breaks, control or "
                "non-ASCII characters)"
            )
        given = [
            credentials.secret_id is not None,
            credentials.token is not None,
            credentials.username is not None or credentials.password is not None,
        ]
        if sum(given) != 1:
            problems.append(
                f"set exactly one of {names.STORE_SECRET_ID}, {names.STORE_TOKEN}, or "
                f"{names.STORE_USERNAME} with {names.STORE_PASSWORD}"
            )
        elif (credentials.username is None) != (credentials.password is None):
            problems.append(f"{names.STORE_USERNAME} and {names.STORE_PASSWORD} go together")

        secret_max_age = _positive(
            names.SECRET_MAX_AGE_SECONDS,
            get(names.SECRET_MAX_AGE_SECONDS),
            names.DEFAULT_SECRET_MAX_AGE,
            problems,
        )
        if not float(secret_max_age).is_integer():
            # Powertools caches nothing for a max age below 1 s: every call would read the secret.
            problems.append(f"{names.SECRET_MAX_AGE_SECONDS} must be a whole number of seconds")
        connect_timeout = _positive(
            names.STORE_CONNECT_TIMEOUT, get(names.STORE_CONNECT_TIMEOUT), 3.05, problems
        )
        read_timeout = _positive(names.STORE_READ_TIMEOUT, get(names.STORE_READ_TIMEOUT), 8.0, problems)

        if problems:
            raise ConfigurationError("Invalid store configuration: " + "; ".join(problems) + ".")
        assert base_url is not None
        assert namespace is not None
        return cls(
            store_api=names.DOCUMENT_API if store_api == names.DOCUMENT_API else names.DATA_API,
            base_url=base_url.rstrip("/"),
            auth_url=auth_url.rstrip("/") if auth_url else None,
            namespace=namespace,
            collection=collection,
            credentials=credentials,
            secret_max_age=int(secret_max_age),
            connect_timeout=float(connect_timeout),
            read_timeout=float(read_timeout),
        )


def _value(env: Mapping[str, str], name: str, problems: list[str], *, strip: bool) -> str:
    """``name``'s value, or its former name's when only that is set (warned about once per process)."""
    value = env.get(name, "")
    former = FORMER_NAMES.get(name)
    if former is None:
        return value.strip() if strip else value
    former_value = env.get(former, "")
    if strip:
        value, former_value = value.strip(), former_value.strip()
    if former_value and value and former_value != value:
        problems.append(
            f"{former} (the former name of {name}) and {name} are both set and differ; set {name} only"
        )
    elif former_value and not value:
        if former not in _warned:
            _warned.add(former)
            # The names only: the value may be a token or a password.
            logger.warning(
                f"{former} is a former name: set {name} instead", former_name=former, new_name=name
            )
        return former_value
    return value


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
