"""Where the store token comes from: a fixed token, a login with a password, or a Secrets Manager secret.

No token or password ever reaches a log line or an error message.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import requests

from orders_api.errors import (
    ConfigurationError,
    StoreCredentialsRejected,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
)
from orders_api.secret_values import SecretReader
from orders_api.store.http import Timeouts, send, with_retries


def header_safe(token: str) -> bool:
    """True when ``token`` can travel in an HTTP header: visible ASCII, no spaces or line breaks."""
    return bool(token) and all("!" <= character <= "~" for character in token)


def checked_token(token: str, origin: str) -> str:
    """``token`` if it can travel in an HTTP header; ConfigurationError naming ``origin``, never the value.

    A token with a line break or another control character would make ``requests`` refuse the header,
    and its error message quotes the header, token and all.
    """
    if not header_safe(token):
        raise ConfigurationError(
            f"The store token from {origin} has characters a token cannot have (spaces, line breaks, "
            "control or non-ASCII characters); store it again without them."
        )
    return token


class TokenSource(Protocol):
    """Gives the token for the next call, and a fresh one after the store rejected it."""

    def token(self) -> str:
        """The token to send now."""
        ...

    def renew(self, rejected: str) -> bool:
        """Try to replace the ``rejected`` token; True when a different one is now available."""
        ...


class FixedToken:
    """A token given as is (an Astra ``AstraCS:`` token or a Stargate auth token)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def renew(self, rejected: str) -> bool:
        return False


@dataclass(frozen=True)
class Login:
    """A username and password for Stargate's ``/v1/auth``."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Login(username={self.username!r}, password='***')"


class PasswordLogin:
    """Gets a token from Stargate's auth API and fetches a new one when the store rejects it."""

    def __init__(
        self, auth_url: str, login: Login, session: requests.Session, timeout: tuple[float, float]
    ) -> None:
        self._auth_url = auth_url.rstrip("/") + "/v1/auth"
        self._login = login
        self._session = session
        self._timeouts = Timeouts(*timeout)
        self._token: str | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._fetch()
            return self._token

    def renew(self, rejected: str) -> bool:
        with self._lock:
            if self._token == rejected or self._token is None:
                self._token = self._fetch()
            return self._token != rejected

    def _fetch(self) -> str:
        return with_retries(self._login_once, self._timeouts)

    def _login_once(self, timeout: tuple[float, float]) -> str:
        response = send(
            self._session,
            "POST",
            self._auth_url,
            timeout,
            what="The store's auth service",
            json={"username": self._login.username, "password": self._login.password},
        )
        if response.status_code in (200, 201):
            try:
                token = response.json()["authToken"]
            except (ValueError, KeyError, TypeError):
                token = None
            if isinstance(token, str) and header_safe(token):
                return token
            raise StoreError("The store's auth service answered without a usable token.")
        if response.status_code in (400, 401, 403):
            raise StoreCredentialsRejected(
                "The store's auth service refused the configured username and password."
            )
        raise StoreError(f"The store's auth service answered HTTP {response.status_code}.")


def parse_secret(value: str) -> str | Login:
    """Read a secret that holds a plain token, ``{"token": ...}`` or ``{"username", "password"}``."""
    text = value.strip()
    if not text:
        raise ConfigurationError("The store secret is empty.")
    if not text.startswith("{"):
        return checked_token(text, "the store secret")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        token = document.get("token")
        if isinstance(token, str) and token.strip():
            return checked_token(token.strip(), "the store secret's token field")
        username, password = document.get("username"), document.get("password")
        if isinstance(username, str) and username and isinstance(password, str) and password:
            return Login(username, password)
    raise ConfigurationError(
        'The store secret must hold a token, JSON {"token": ...}, or JSON {"username": ..., "password": ...}.'
    )


class SecretToken:
    """The token (or the login that gets one) kept in a Secrets Manager secret, cached for ``max_age``.

    ``for_login`` turns a username and password into a token source: a ``/v1/auth`` login for the
    Document API, a ``Cassandra:`` token for a self-hosted Data API.
    """

    def __init__(self, secret_id: str, max_age: int, for_login: Callable[[Login], TokenSource]) -> None:
        self._secret_id = secret_id
        self._max_age = max_age
        self._for_login = for_login
        self._logins: dict[Login, TokenSource] = {}
        self._reader = SecretReader(secret_id, max_age, "The store secret")

    def token(self) -> str:
        return self._source(force_fetch=False).token()

    def renew(self, rejected: str) -> bool:
        try:
            if self._source(force_fetch=False).renew(rejected):
                return True
        except (StoreUnavailable, StoreTimeout):
            raise
        except StoreCredentialsRejected:
            pass  # the login was refused: the password may have been rotated in the secret
        # The secret itself may have been rotated since it was cached.
        return self._source(force_fetch=True).token() != rejected

    def _source(self, force_fetch: bool) -> TokenSource:
        secret = parse_secret(self._read(force_fetch))
        if isinstance(secret, str):
            return FixedToken(secret)
        if secret not in self._logins:
            self._logins = {secret: self._for_login(secret)}  # forget logins of rotated passwords
        return self._logins[secret]

    def _read(self, force_fetch: bool) -> str:
        return self._reader.read(force_fetch)


def cassandra_token(login: Login) -> FixedToken:
    """The token a self-hosted Data API takes for a username and password: ``Cassandra:b64:b64``."""
    encode = base64.b64encode
    return FixedToken(
        f"Cassandra:{encode(login.username.encode()).decode()}:{encode(login.password.encode()).decode()}"
    )
