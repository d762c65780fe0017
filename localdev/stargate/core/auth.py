"""Who may call: Stargate's auth API (``POST /v1/auth``) and the token check both dialects use.

``TokenAuthority.rejection`` says whether a token is accepted; each dialect turns a rejection into
its own 401 (the Document API's ``X-Cassandra-Token`` error, the Data API's ``errors`` body).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from collections.abc import Mapping

from localdev.stargate.core.routing import ApiError, Request, Response, Route, json_response, malformed_json
from localdev.stargate.core.tokens import TokenStore
from localdev.stargate.core.values import parse_strict

TOKEN_HEADER = "X-Cassandra-Token"  # noqa: S105 - a header name, not a secret
CREDENTIALS_TOKEN_PREFIX = "Cassandra:"  # noqa: S105 - a token format, not a secret


def credentials_from_token(token: str) -> tuple[str, str] | None:
    """The username and password of a ``Cassandra:<base64 username>:<base64 password>`` token.

    None when the token does not have that form. The self-hosted Data API accepts such tokens.
    """
    if not token.startswith(CREDENTIALS_TOKEN_PREFIX):
        return None
    parts = token[len(CREDENTIALS_TOKEN_PREFIX) :].split(":")
    if len(parts) != 2:
        return None
    try:
        username, password = (base64.b64decode(part, validate=True).decode("utf-8") for part in parts)
    except (binascii.Error, ValueError):
        return None
    return username, password


class TokenAuthority:
    """Decides whether a request's token may use the document APIs."""

    def __init__(
        self,
        tokens: TokenStore,
        *,
        fixed_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        """Accept tokens issued by ``tokens``, plus ``fixed_token`` (never expires) when given.

        With ``username`` and ``password``, ``Cassandra:<b64>:<b64>`` tokens carrying them are
        accepted where a caller asks for it (the Data API does, Stargate v1 does not).
        """
        self._tokens = tokens
        self._fixed_token = fixed_token
        self._username = username
        self._password = password

    def rejection(self, token: str, *, allow_credentials: bool = False) -> str | None:
        """None when ``token`` is accepted, else why it is not (for the error message)."""
        if not token:
            return "Missing token"
        if self._fixed_token is not None and token == self._fixed_token:
            return None
        if allow_credentials and token.startswith(CREDENTIALS_TOKEN_PREFIX):
            credentials = credentials_from_token(token)
            if credentials is None:
                return "authorization failed - bad token"
            return None if self._credentials_match(*credentials) else "authorization failed"
        try:
            uuid.UUID(token)
        except ValueError:
            return "authorization failed - bad token"
        return None if self._tokens.check(token) else "authorization failed"

    def _credentials_match(self, username: str, password: str) -> bool:
        if self._username is None or self._password is None:
            return False
        # Both compared every time, so the answer's timing does not tell which one was wrong.
        same_user = hmac.compare_digest(username.encode(), self._username.encode())
        same_password = hmac.compare_digest(password.encode(), self._password.encode())
        return same_user and same_password


class AuthApi:
    """``POST /v1/auth``: trade the developer-mode credentials for a token."""

    def __init__(self, tokens: TokenStore, *, username: str, password: str) -> None:
        """Accept exactly this username and password."""
        self._tokens = tokens
        self._username = username
        self._password = password

    def routes(self) -> list[Route]:
        """The routes this API answers."""
        return [Route("/v1/auth", {"POST": self.create_token})]

    def create_token(self, request: Request, _params: Mapping[str, str]) -> Response:
        """201 ``{"authToken": "<uuid>"}``; 400 without credentials, 401 with wrong ones."""
        try:
            credentials = parse_strict(request.body) if request.body.strip() else None
        except (ValueError, RecursionError):
            raise malformed_json() from None
        if credentials is not None and not isinstance(credentials, dict):
            raise malformed_json()
        credentials = credentials or {}
        username, password = credentials.get("username"), credentials.get("password")
        if not isinstance(username, str) or not username:
            raise _auth_error(400, "Must provide username in request")
        if not isinstance(password, str) or not password:
            raise _auth_error(400, "Must provide password in request")
        if username != self._username or password != self._password:
            raise _auth_error(
                401, f"Failed to create token: Provided username {username} and/or password are incorrect"
            )
        return json_response(201, {"authToken": self._tokens.issue(username)})


def _auth_error(status: int, description: str) -> ApiError:
    """The auth API's error body, which (unlike the Document API's) has no ``code`` field."""
    return ApiError(json_response(status, {"description": description}))
