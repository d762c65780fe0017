"""The auth API (``POST /v1/auth``) and the token check every ``/v2`` call goes through."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from localdev.stargate.document_rules import parse_json
from localdev.stargate.errors import auth_error, malformed_json, unauthorized
from localdev.stargate.routing import Request, Response, Route, json_response
from localdev.stargate.tokens import TokenStore

TOKEN_HEADER = "X-Cassandra-Token"  # noqa: S105 - a header name, not a secret


class TokenAuthority:
    """Decides whether a request's ``X-Cassandra-Token`` may use the Document API."""

    def __init__(self, tokens: TokenStore, *, fixed_token: str | None = None) -> None:
        """Accept tokens issued by ``tokens``, plus ``fixed_token`` (never expires) when given."""
        self._tokens = tokens
        self._fixed_token = fixed_token

    def authorize(self, request: Request) -> None:
        """Return quietly, or raise the 401 that Stargate v1 would answer."""
        token = (request.header(TOKEN_HEADER) or "").strip()
        if not token:
            raise unauthorized("Missing token")
        if self._fixed_token is not None and token == self._fixed_token:
            return
        try:
            uuid.UUID(token)
        except ValueError:
            raise unauthorized("authorization failed - bad token") from None
        if not self._tokens.check(token):
            raise unauthorized("authorization failed")


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
        credentials = parse_json(request.body) if request.body.strip() else None
        if credentials is not None and not isinstance(credentials, dict):
            raise malformed_json()
        credentials = credentials or {}
        username, password = credentials.get("username"), credentials.get("password")
        if not isinstance(username, str) or not username:
            raise auth_error(400, "Must provide username in request")
        if not isinstance(password, str) or not password:
            raise auth_error(400, "Must provide password in request")
        if username != self._username or password != self._password:
            raise auth_error(
                401, f"Failed to create token: Provided username {username} and/or password are incorrect"
            )
        return json_response(201, {"authToken": self._tokens.issue(username)})
