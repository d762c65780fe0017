"""Reads Secrets Manager secrets for the function: through the Parameters and Secrets Lambda extension,
cached in process, with a forced re-read that bypasses every cache after a rotation.

- **Normal reads** go to the AWS Parameters and Secrets Lambda Extension, which the stack adds as a
  layer: ``GET http://localhost:<PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, 2773>/secretsmanager/get
  ?secretId=<id>`` with the header ``X-Aws-Parameters-Secrets-Token: $AWS_SESSION_TOKEN``, answered with
  GetSecretValue's JSON. The extension keeps its own cache for ``SECRETS_MANAGER_TTL`` seconds (the stack
  sets it to the same age as this reader's). No AWS SDK is loaded for it: boto3 and botocore are the
  largest imports a Python function can have, and this function does not ship them.
- **In process**, each value is kept for ``max_age`` seconds: a warm request reads no secret at all.
- **A forced re-read** (the store refused the token: the secret may have been rotated) must not be
  served from the extension's cache, and the extension has no call to refresh it. It asks Secrets
  Manager itself, through the boto3 the Lambda runtime provides, imported on that path only. The fresh
  value is then kept for ``max_age``; by then the extension's older copy has expired as well.

- **Without the extension**, every read goes to Secrets Manager through the runtime's boto3, kept in
  process for ``max_age`` as above. In Lambda the extension is used where the stack added it (its
  construct sets ``PARAMETERS_SECRETS_EXTENSION_HTTP_PORT``) and Lambda gave the ``AWS_SESSION_TOKEN``
  it accepts. The stack leaves it out under SnapStart, where Lambda gives container credentials
  instead of that token (``orders_api.snapstart`` then imports boto3 before the snapshot), and in
  regions where AWS publishes no arm64 layer of it.

Outside Lambda, ``localdev.secrets_extension`` serves the same HTTP API for tests and benchmarks; local
runs usually give the token directly instead (``STORE_TOKEN``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from orders_api.errors import ConfigurationError, StoreError
from orders_api.store.http import Timeouts, new_session, send, with_retries, within_budget

PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
DEFAULT_PORT = 2773
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105 - a header name, not a secret
# At most one read past every cache in this many seconds, per secret.
FORCED_READ_INTERVAL = 30
# The extension answers from memory or after one Secrets Manager call.
EXTENSION_TIMEOUTS = Timeouts(connect=1.0, read=3.0)

_lock = threading.Lock()
_extension_session: requests.Session | None = None
_secrets_manager: Any = None


class SecretUnreadable(StoreError):
    """Secrets Manager did not give a secret the service needs (HTTP 502)."""

    public_message = "The service could not read its credentials from Secrets Manager; try again shortly."


class SecretReader:
    """The value of one string secret, e.g. ``SecretReader(arn, 300).read()``."""

    def __init__(
        self,
        secret_id: str,
        max_age: int,
        what: str = "The store credentials",
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_id = secret_id
        self._max_age = max_age
        self._what = what
        self._clock = clock
        self._cached: tuple[str, float] | None = None
        self._forced_at: float | None = None

    def read(self, force_fetch: bool = False) -> str:
        """The secret's value, from memory unless it is older than ``max_age`` or ``force_fetch``.

        A forced read asks Secrets Manager at most once per ``FORCED_READ_INTERVAL`` seconds (or
        ``max_age``, if shorter): a token that was revoked and never rotated would otherwise cost a
        Secrets Manager call on every request. A read that leaves the process is bounded by the
        request's time budget like a store call.
        """
        cached = self._cached
        now = self._clock()
        if not force_fetch and cached is not None and now - cached[1] < self._max_age:
            return cached[0]
        forced_at = self._forced_at
        interval = min(FORCED_READ_INTERVAL, self._max_age)
        if force_fetch and cached is not None and forced_at is not None and now - forced_at < interval:
            return cached[0]
        if force_fetch or not reads_through_extension():
            # boto3's calls are not ``send``'s: bounded in a worker thread instead
            document = within_budget(lambda: from_secrets_manager(self._secret_id, self._what))
        else:
            document = from_extension(self._secret_id, self._what)
        value = document.get("SecretString")
        if not isinstance(value, str):
            if document.get("SecretBinary") is not None:
                raise ConfigurationError(f"{self._what} must be a string secret, not binary.")
            raise SecretUnreadable(f"{self._what}: the secret has no value.")
        self._cached = (value, self._clock())
        if force_fetch:
            self._forced_at = self._cached[1]
        return value


def reads_through_extension(env: Mapping[str, str] = os.environ) -> bool:
    """Whether secrets are read through the extension: in Lambda where the stack added it and the
    session token it accepts is there; outside Lambda always (tests and benchmarks run its stand-in,
    and without one its error says to give the token directly)."""
    if not env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return True
    return bool(env.get(PORT_ENV)) and bool(env.get("AWS_SESSION_TOKEN"))


def load_sdk() -> None:
    """Import the runtime's boto3 now (SnapStart, before the snapshot), not on the first read."""
    try:
        import boto3  # noqa: F401
        import botocore.config  # noqa: F401
    except ImportError:
        return  # the first read says so (``from_secrets_manager``): a snapshot can still be taken


def from_extension(secret_id: str, what: str, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """GetSecretValue's answer for ``secret_id``, from the Parameters and Secrets extension."""
    session_token = env.get("AWS_SESSION_TOKEN", "")
    if not session_token:
        raise ConfigurationError(
            f"{what} is read through the Parameters and Secrets Lambda extension, which needs "
            "AWS_SESSION_TOKEN (Lambda sets it); outside Lambda give the token directly."
        )
    port = env.get(PORT_ENV, "").strip() or str(DEFAULT_PORT)
    url = f"http://localhost:{port}/secretsmanager/get?secretId={quote(secret_id, safe='')}"
    where = f"The Parameters and Secrets extension (localhost:{port})"

    def attempt(timeout: tuple[float, float]) -> dict[str, Any]:
        answer = send(_session(), "GET", url, timeout, what=where, headers={TOKEN_HEADER: session_token})
        if answer.status_code != 200:
            raise SecretUnreadable(f"{what} could not be read: {where} answered HTTP {answer.status_code}.")
        try:
            document = answer.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise SecretUnreadable(f"{what} could not be read: {where} answered something other than JSON.")
        return document

    try:
        return with_retries(attempt, EXTENSION_TIMEOUTS)
    except SecretUnreadable:
        raise
    except StoreError as error:
        raise SecretUnreadable(
            f"{what} could not be read: {where} failed ({type(error).__name__}); "
            "in Lambda the stack adds its layer, elsewhere give the token directly."
        ) from error


def from_secrets_manager(secret_id: str, what: str) -> dict[str, Any]:
    """GetSecretValue's answer for ``secret_id`` from Secrets Manager itself, past every cache."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        client = secrets_manager_client()
    except ImportError as error:
        unavailable = f"{what} cannot be read from Secrets Manager: boto3 is not available."
        raise SecretUnreadable(unavailable) from error
    try:
        answer: dict[str, Any] = client.get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as error:
        raise SecretUnreadable(f"{what} could not be read from Secrets Manager.") from error
    return answer


def secrets_manager_client() -> Any:
    """The process's Secrets Manager client (the runtime's boto3), bounded like store calls."""
    global _secrets_manager
    with _lock:
        if _secrets_manager is None:
            import boto3
            from botocore.config import Config

            # botocore's defaults wait 60 s per read and retry several times.
            config = Config(
                connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"}
            )
            _secrets_manager = boto3.client("secretsmanager", config=config)
        return _secrets_manager


def _session() -> requests.Session:
    global _extension_session
    with _lock:
        if _extension_session is None:
            # Never through a proxy, whatever the environment says: the request carries the session
            # token, and the extension is on this machine.
            _extension_session = new_session(env={})
        return _extension_session


def forget() -> None:
    """Drop the extension's HTTP session and the Secrets Manager client (SnapStart: nothing shared)."""
    global _extension_session, _secrets_manager
    with _lock:
        _extension_session = None
        _secrets_manager = None
