"""Reads Secrets Manager secrets for the function, cached, with a client bounded like store calls.

One reader per secret: Powertools' ``SecretsProvider`` caches each value for ``max_age`` seconds, and
``force_fetch`` reads it again (after a rotation). boto3 is imported on the first read only: it is the
largest import of the function and requests that never read a secret should not pay for it.
"""

from __future__ import annotations

from typing import Any

from orders_api.errors import ConfigurationError, StoreError
from orders_api.store.http import within_budget


class SecretUnreadable(StoreError):
    """Secrets Manager did not give a secret the service needs (HTTP 502)."""

    public_message = "The service could not read its credentials from Secrets Manager; try again shortly."


class SecretReader:
    """The value of one string secret, e.g. ``SecretReader(arn, 300).read()``."""

    def __init__(self, secret_id: str, max_age: int, what: str = "The store credentials") -> None:
        self._secret_id = secret_id
        self._max_age = max_age
        self._what = what
        self._provider: Any = None

    def read(self, force_fetch: bool = False) -> str:
        """The secret's value, from the cache unless it is older than ``max_age`` or forced.

        Bounded by the request's time budget like a store call (a cached value returns at once).
        """
        return within_budget(lambda: self._read(force_fetch))

    def _read(self, force_fetch: bool) -> str:
        from aws_lambda_powertools.utilities import parameters

        if self._provider is None:
            self._provider = parameters.SecretsProvider(boto_config=_client_config())
        try:
            value = self._provider.get(self._secret_id, max_age=self._max_age, force_fetch=force_fetch)
        except parameters.exceptions.GetParameterError as error:
            raise SecretUnreadable(f"{self._what} could not be read from Secrets Manager.") from error
        if not isinstance(value, str):
            raise ConfigurationError(f"{self._what} must be a string secret, not binary.")
        return value


def _client_config() -> Any:
    """Secrets Manager calls bounded like store calls: botocore's defaults wait 60 s per read."""
    from botocore.config import Config

    return Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})
