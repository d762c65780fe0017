"""Local sign-in for ``make run``: bearer tokens for named callers, checked the way API Gateway's JWT
authorizer checks them when the stack is deployed with ``apiAuth=jwt``.

    make token SUB=alice                                  # orders/read and orders/write
    make token SUB=ops SCOPES="orders/read orders/write orders/admin"
    make token SUB=alice TTL=86400                        # valid for a day (default: an hour)

A token is an HS256 JWT signed with a random key kept in ``DATA_DIR/jwt-key`` (so tokens outlive a
restart of ``make run`` with the same data directory), issued by ``ISSUER`` for ``AUDIENCE``, valid for
an hour unless ``TTL`` (seconds, at most a week) says otherwise. ``make run`` checks signature,
issuer, audience, expiry and the route's scope (``orders/read``
for GET, ``orders/write`` otherwise), answers 401 or 403 in JSON as API Gateway does, and hands the
function the same ``requestContext.authorizer.jwt`` (claims and scopes) a deployed function gets.
A request without a token acts as the local caller ``local`` with read and write scopes, so plain curl
keeps working.

PyJWT does the signing and checking; only the key's place and the scope rule are this module's own.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

ISSUER = "http://localhost/orders-local"
AUDIENCE = "orders-local"
DEFAULT_SCOPES = ("orders/read", "orders/write")
LIFETIME_SECONDS = 3600
# At most a week: a local token is a convenience, not a credential to keep.
MAX_LIFETIME_SECONDS = 7 * 24 * 3600
KNOWN_SCOPES = ("orders/read", "orders/write", "orders/admin")


@dataclass(frozen=True)
class Refused:
    """Why API Gateway would not let the request through: 401 (no valid token) or 403 (scope)."""

    status: int
    message: str
    reason: str = field(default="", compare=False)
    """Why, for make run's console (the caller sees only what API Gateway says); never the token."""


def as_api_gateway_hands_them(claims: dict[str, Any]) -> dict[str, str]:
    """A token's claims as an HTTP API (payload 2.0) gives them to the function: every value a string,
    a list as its items in brackets, space-separated (``["a", "b"]`` becomes ``"[a b]"``), an object as
    ``map[key:value ...]``."""

    def text(value: Any) -> str:
        if isinstance(value, list):
            return f"[{' '.join(text(item) for item in value)}]"
        if isinstance(value, dict):
            return f"map[{' '.join(f'{key}:{text(item)}' for key, item in value.items())}]"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return {name: text(value) for name, value in claims.items()}


def _why(error: jwt.PyJWTError) -> str:
    """A refused token's fault in words (PyJWT's messages never quote the token)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        lifetime = f"{LIFETIME_SECONDS // 60} minutes"
        return f"the token has expired (tokens last {lifetime}; make token gives a new one)"
    if isinstance(error, jwt.InvalidSignatureError):
        return "the token was not signed by this make run (issued for another DATA_DIR?)"
    if isinstance(error, jwt.DecodeError):
        return "the bearer value is not a token from make token"
    return f"the token is not valid here: {error}"


class LocalIssuer:
    """Issues and checks the local tokens of one data directory."""

    def __init__(self, data_dir: str | Path) -> None:
        self._key_file = Path(data_dir) / "jwt-key"

    def issue(
        self, subject: str, scopes: tuple[str, ...] = DEFAULT_SCOPES, lifetime: int = LIFETIME_SECONDS
    ) -> str:
        """A bearer token for ``subject`` with ``scopes``."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._key(), algorithm="HS256")

    def authorize(self, method: str, authorization: str | None) -> dict[str, Any] | Refused:
        """The ``authorizer`` block of the event for this request, or why it is refused."""
        if authorization is None:
            claims: dict[str, Any] = {"iss": ISSUER, "sub": "local", "scope": " ".join(DEFAULT_SCOPES)}
        else:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return Refused(401, "Unauthorized", "the Authorization header is not 'Bearer <token>'")
            try:
                claims = jwt.decode(
                    token.strip(),
                    self._key(),
                    algorithms=["HS256"],
                    audience=AUDIENCE,
                    issuer=ISSUER,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except jwt.PyJWTError as error:
                return Refused(401, "Unauthorized", _why(error))
        scopes = str(claims.get("scope", "")).split()
        needed = "orders/read" if method.upper() in ("GET", "HEAD", "OPTIONS") else "orders/write"
        if needed not in scopes:
            return Refused(403, "Forbidden", f"the token of {claims['sub']!r} lacks the scope {needed}")
        return {"jwt": {"claims": as_api_gateway_hands_them(claims), "scopes": scopes}}

    def _key(self) -> str:
        if not self._key_file.exists():
            # Written whole under a temporary name, then moved into place: a reader never sees it half made.
            self._key_file.parent.mkdir(parents=True, exist_ok=True)
            scratch = self._key_file.with_name(f".jwt-key-{secrets.token_hex(8)}")
            descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(secrets.token_urlsafe(48))
            try:
                os.link(scratch, self._key_file)  # fails if another process made it first
            except FileExistsError:
                pass
            finally:
                scratch.unlink()
        key = self._key_file.read_text().strip()
        if len(key) < 32:
            raise RuntimeError(f"{self._key_file} holds no usable key: delete it and a new one is made")
        return key


def main(argv: list[str] | None = None) -> int:
    """``make token``: print a bearer token for ``--sub`` as the last line."""
    parser = argparse.ArgumentParser(description="A bearer token that `make run` accepts.")
    parser.add_argument("--sub", required=True, help="the caller's name (the token's subject)")
    parser.add_argument("--scopes", default=" ".join(DEFAULT_SCOPES), help="space-separated scopes")
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", ".local-data"))
    parser.add_argument("--ttl", default=str(LIFETIME_SECONDS), help="lifetime in seconds (default 3600)")
    args = parser.parse_args(argv)
    if not args.sub.strip():
        print("Give the caller's name: make token SUB=<name>", file=sys.stderr)
        return 2
    scopes = tuple(args.scopes.split())
    unknown = [scope for scope in scopes if scope not in KNOWN_SCOPES]
    if unknown:
        print(
            f"Unknown scope {', '.join(unknown)}: the API knows {', '.join(KNOWN_SCOPES)}.", file=sys.stderr
        )
        return 2
    if not args.ttl.strip().isdigit() or not 1 <= int(args.ttl) <= MAX_LIFETIME_SECONDS:
        print(
            f"TTL must be a number of seconds from 1 to {MAX_LIFETIME_SECONDS}, got {args.ttl!r}.",
            file=sys.stderr,
        )
        return 2
    print(LocalIssuer(args.data_dir).issue(args.sub.strip(), scopes, int(args.ttl)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
