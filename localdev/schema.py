"""Creating a namespace on a Document API server: what `make run` and the tests do before the first order.

The deployed function never creates a namespace (a missing one is a deployment mistake it reports), so
this lives here, beside the embedded server, and not in the function's store client.
"""

from __future__ import annotations

import requests

from orders_api.errors import StoreCredentialsRejected, StoreError
from orders_api.store.http import HttpAnswer, Timeouts, send, with_retries
from orders_api.store.tokens import TokenSource


def create_namespace(
    base_url: str,
    namespace: str,
    tokens: TokenSource,
    session: requests.Session,
    timeout: tuple[float, float] = (3.05, 10.0),
) -> None:
    """Create ``namespace``; one that already exists is fine (Stargate v1 answers 201, v2 409).

    Retried under the store's policy: creating a namespace twice is harmless.
    """
    url = f"{base_url.rstrip('/')}/v2/schemas/namespaces"

    def attempt(timeout: tuple[float, float]) -> HttpAnswer:
        headers = {"X-Cassandra-Token": tokens.token()}
        return send(session, "POST", url, timeout, json={"name": namespace}, headers=headers)

    status = with_retries(attempt, Timeouts(*timeout)).status_code
    if status in (401, 403):
        raise StoreCredentialsRejected("The store rejected the configured token.")
    if status not in (200, 201, 409):
        raise StoreError(f"The store answered HTTP {status} to creating namespace {namespace}.")
