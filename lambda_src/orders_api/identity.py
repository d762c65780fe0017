"""Who is calling: one ``Caller`` per request, taken from what API Gateway says about the request.

The function never authenticates anyone itself: API Gateway does (SigV4 for ``iam``, a JWT authorizer
for ``jwt``) and writes the result into ``requestContext.authorizer``. This module only reads it, in
the mode the stack deployed (``ORDERS_API_AUTH``):

- ``iam``: the signing principal's ARN. An assumed-role session
  (``arn:aws:sts::123456789012:assumed-role/checkout/i-0abc``) becomes its role
  (``arn:aws:iam::123456789012:role/checkout``), so a service keeps its idempotency keys, and later its
  orders, across sessions. The role's path is not in a session ARN, so none is in the id either.
  Callers signed in through a Cognito identity pool are told apart by their identity id, not by the
  pool's shared role.
- ``jwt``: the token's issuer and subject (``iss`` + ``sub``).
- ``none``: one shared anonymous caller (``make run``, and stacks deployed with ``apiAuth=none``).

Each caller reaches only the orders it created; admins (``ADMIN_PRINCIPALS`` in ``iam`` mode, the
``orders/admin`` scope in ``jwt`` mode) reach every order.

A request without the identity its mode expects gets 401 (it cannot come through API Gateway as
deployed). The default mode is ``iam``: a function deployed without the setting fails closed.

Callers' ids are stable strings; changing how they are formed changes which orders and keys belong
to whom, so they are versioned by their prefix (``iam:``, ``jwt:``, ``anonymous``).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from orders_api import names
from orders_api.errors import ConfigurationError, OrdersError

AuthMode = Literal["iam", "jwt", "none"]
AUTH_MODES: tuple[AuthMode, ...] = ("iam", "jwt", "none")
DEFAULT_AUTH_MODE: AuthMode = "iam"

_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+$"
)


class NotAuthenticated(OrdersError):
    """The request carries no caller identity of the kind the API expects (HTTP 401)."""

    def __init__(self) -> None:
        super().__init__("The request is not signed in: it carries no caller identity.")


class Caller(NamedTuple):
    """One caller of the API; ``id`` is what keys and orders belong to.

    An ``admin`` acts on every order: an IAM principal listed in ``ADMIN_PRINCIPALS``, or a JWT caller
    with the ``orders/admin`` scope.
    """

    id: str
    kind: AuthMode
    admin: bool = False

    @property
    def owner_filter(self) -> str | None:
        """The owner whose orders this caller may reach; None for an admin (every order)."""
        return None if self.admin else self.id


ANONYMOUS = Caller("anonymous", "none")
ADMIN_SCOPE = "orders/admin"


def auth_mode(env: Mapping[str, str] = os.environ) -> AuthMode:
    """The authorization mode the stack deployed; ConfigurationError for an unknown one."""
    mode = env.get(names.ORDERS_API_AUTH, "").strip() or DEFAULT_AUTH_MODE
    for known in AUTH_MODES:
        if mode == known:
            return known
    raise ConfigurationError(f"{names.ORDERS_API_AUTH} must be one of {', '.join(AUTH_MODES)}.")


def admin_principals(env: Mapping[str, str] = os.environ) -> frozenset[str]:
    """The IAM principals (``ADMIN_PRINCIPALS``, comma-separated role or user ARNs) that are admins."""
    return _admins(env.get(names.ADMIN_PRINCIPALS, ""))


@functools.lru_cache(maxsize=4)
def _admins(setting: str) -> frozenset[str]:
    # Parsed once per value, not on every request.
    listed = (item.strip() for item in setting.split(","))
    return frozenset(
        f"iam:{_without_role_path(principal_id(arn))}" for arn in listed if arn.startswith("arn:")
    )


def _without_role_path(arn: str) -> str:
    # A session's ARN names its role without the role's path, so an admin role is matched without it.
    prefix, separator, rest = arn.partition(":role/")
    return f"{prefix}{separator}{rest.rsplit('/', 1)[-1]}" if separator else arn


def caller_of(event: Mapping[str, Any], mode: AuthMode, admins: frozenset[str] = frozenset()) -> Caller:
    """The caller of an HTTP API (payload 2.0) event, in ``mode``; NotAuthenticated when absent."""
    if mode == "none":
        return ANONYMOUS
    authorizer = _mapping(_mapping(event.get("requestContext")).get("authorizer"))
    if mode == "iam":
        caller = _iam_caller(_mapping(authorizer.get("iam")))
        return Caller(caller.id, caller.kind, admin=caller.id in admins)
    jwt = _mapping(authorizer.get("jwt"))
    caller = _jwt_caller(_mapping(jwt.get("claims")))
    return Caller(caller.id, caller.kind, admin=ADMIN_SCOPE in _scopes(jwt))


def principal_id(arn: str) -> str:
    """An IAM principal ARN as a stable id: an assumed-role session becomes its role's ARN."""
    session = _ASSUMED_ROLE.match(arn)
    if session is None:
        return arn
    return f"arn:{session['partition']}:iam::{session['account']}:role/{session['role']}"


def _iam_caller(iam: Mapping[str, Any]) -> Caller:
    cognito = _mapping(iam.get("cognitoIdentity"))
    identity_id = cognito.get("identityId")
    if isinstance(identity_id, str) and identity_id:
        return Caller(f"iam:cognito-identity:{identity_id}", "iam")
    arn = iam.get("userArn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise NotAuthenticated()
    return Caller(f"iam:{principal_id(arn)}", "iam")


def _jwt_caller(claims: Mapping[str, Any]) -> Caller:
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not (isinstance(issuer, str) and issuer and isinstance(subject, str) and subject):
        raise NotAuthenticated()
    # "#" cannot appear in an issuer URL's id here: it is escaped, so the split is unambiguous.
    return Caller(f"jwt:{issuer.replace('%', '%25').replace('#', '%23')}#{subject}", "jwt")


def _scopes(jwt: Mapping[str, Any]) -> set[str]:
    # API Gateway lists the scopes it checked; the token's own "scope" claim is a space-separated string.
    listed = jwt.get("scopes")
    scopes = {str(scope) for scope in listed} if isinstance(listed, list) else set()
    claims = _mapping(jwt.get("claims"))
    for name in ("scope", "scp"):  # "scp": Okta's and Entra ID's name, a string or a list
        claim = claims.get(name)
        if isinstance(claim, str):
            scopes |= set(_unbracketed(claim).split())
        elif isinstance(claim, list):
            scopes |= {str(item) for item in claim}
    return scopes


def _unbracketed(claim: str) -> str:
    # API Gateway hands every claim over as a string: a list claim (Okta's "scp": ["a", "b"]) as "[a b]".
    text = claim.strip()
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
