"""Builds the process's one order store and cursor seal on first use, and keeps them for warm invocations."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests

from orders_api.cursors import CursorSeal, seal_from_env
from orders_api.settings import StoreSettings
from orders_api.store import OrderStore
from orders_api.store.data_api_client import DataApiCollection
from orders_api.store.data_api_store import DataApiOrderStore
from orders_api.store.document_api_client import StargateDocuments
from orders_api.store.document_api_store import DocumentOrderStore
from orders_api.store.http import new_session
from orders_api.store.tokens import (
    FixedToken,
    Login,
    PasswordLogin,
    SecretToken,
    TokenSource,
    cassandra_token,
)

_store: OrderStore | None = None
_seal: CursorSeal | None = None
_lock = threading.Lock()


def get_store() -> OrderStore:
    """The order store of this process, built from the environment the first time it is needed."""
    global _store
    with _lock:
        if _store is None:
            _store = build_store(StoreSettings.from_env(), new_session())
        return _store


def get_cursor_seal() -> CursorSeal:
    """The cursor seal of this process, its key source read from the environment on first use."""
    global _seal
    with _lock:
        if _seal is None:
            _seal = seal_from_env()
        return _seal


def forget() -> None:
    """Drop the store and cursor seal with their HTTP session, tokens and secrets: the next request
    builds them anew (after a SnapStart restore, nothing of a snapshot's connections or secrets is
    shared between the copies restored from it)."""
    global _store, _seal
    with _lock:
        _store = None
        _seal = None


def build_store(settings: StoreSettings, session: requests.Session) -> OrderStore:
    """An order store for ``settings`` that sends its calls through ``session``."""
    tokens = build_tokens(settings, session)
    timeout = (settings.connect_timeout, settings.read_timeout)
    where = (settings.base_url, settings.namespace, settings.collection)
    if settings.store_api == "data":
        return DataApiOrderStore(DataApiCollection(*where, tokens, session, timeout))
    return DocumentOrderStore(StargateDocuments(*where, tokens, session, timeout))


def build_tokens(settings: StoreSettings, session: requests.Session) -> TokenSource:
    """Where tokens come from: the secret, a fixed token, or a username and password."""
    timeout = (settings.connect_timeout, settings.read_timeout)
    auth_url = settings.auth_url or _origin(settings.base_url)

    def for_login(login: Login) -> TokenSource:
        # The Document API trades a login for a token at /v1/auth; a Data API takes it in the token.
        if settings.store_api == "data":
            return cassandra_token(login)
        return PasswordLogin(auth_url, login, session, timeout)

    credentials = settings.credentials
    if credentials.secret_id:
        return SecretToken(credentials.secret_id, settings.secret_max_age, for_login)
    if credentials.token:
        return FixedToken(credentials.token)
    assert credentials.username is not None
    assert credentials.password is not None
    return for_login(Login(credentials.username, credentials.password))


def _origin(url: str) -> str:
    # Without an auth URL, /v1/auth is looked for on the documents host (true of the embedded server).
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
