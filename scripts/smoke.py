"""Exercise a deployed orders API the way a user would, and stop at the first surprise.

    make smoke API_URL=https://abc123.execute-api.eu-west-1.amazonaws.com/
    make smoke SMOKE_ARGS=--cognito        # a stack deployed with apiAuth=jwt and its Cognito pool
                                           # (the default when cdk-outputs.json shows that pool)
    SMOKE_BEARER_TOKEN=... make smoke      # apiAuth=jwt with another issuer
    python scripts/smoke.py https://abc123.execute-api.eu-west-1.amazonaws.com/ [--no-auth]
    python scripts/smoke.py            # the ApiUrl that `make deploy` wrote to cdk-outputs.json

Requests are signed with SigV4 (service ``execute-api``) using the usual AWS credential chain, unless
``--no-auth`` is given for a stack deployed with ``-c apiAuth=none``. The region comes from the URL,
or from AWS_REGION / AWS_DEFAULT_REGION for a custom domain. Exit status: 0 when every answer was as
expected, 1 at the first surprise, 2 when the script cannot start (no URL, region or credentials).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import Session

TIMEOUT = (3.05, 30)
OUTPUTS_FILE = Path(__file__).resolve().parent.parent / "cdk-outputs.json"
ORDER_FIELDS = {
    "orderId",
    "productName",
    "productQuantity",
    "productPrice",
    "status",
    "createdAt",
    "updatedAt",
}
# The outputs of a stack deployed with apiAuth=jwt and its own Cognito pool.
COGNITO_OUTPUTS = ("UserPoolId", "ServicesClientId", "TokenUrl")
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class Surprise(Exception):
    """The API answered something a user would not expect."""


class OrdersClient:
    """Sends one request at a time, signed when credentials are given, and prints what happened."""

    def __init__(
        self, base_url: str, credentials: Credentials | None, region: str | None, bearer: str | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._region = region
        self._bearer = bearer
        self._session = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: int,
        body: object = None,
        query: dict[str, str | int] | None = None,
    ) -> Any:
        """Send the request; raise Surprise unless the status is ``expect``; return the parsed JSON body."""
        url = self._base_url + path + (f"?{urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self._bearer is not None:
            headers["Authorization"] = f"Bearer {self._bearer}"
        elif self._credentials is not None:
            signed = AWSRequest(method=method, url=url, data=data, headers=headers)
            SigV4Auth(self._credentials, "execute-api", self._region).add_auth(signed)
            headers = dict(signed.headers.items())
        response = self._session.request(method, url, data=data, headers=headers, timeout=TIMEOUT)

        shown_path = path + (f"?{urlencode(query)}" if query else "")
        print(f"{method:6} {shown_path} -> {response.status_code}")
        if response.status_code != expect:
            raise Surprise(f"expected HTTP {expect}, got {response.status_code}: {response.text[:500]}")
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise Surprise(f"the answer is not JSON: {response.text[:200]!r}") from error


def run(client: OrdersClient, page_size: int, max_pages: int) -> None:
    """Create, read, list, pay for and delete one order; then send one invalid order."""
    new_order = {
        "productName": f"smoke-test-{uuid.uuid4().hex[:8]}",
        "productQuantity": 2,
        "productPrice": 1999,
    }
    order = client.call("POST", "/orders", body=new_order, expect=201)
    _check_order(order, new_order, status="PENDING")
    order_path = f"/orders/{order['orderId']}"

    fetched = client.call("GET", order_path, expect=200)
    if fetched != order:
        raise Surprise(f"GET returned {fetched}, not the order just created {order}")

    _find_in_listing(client, order["orderId"], page_size, max_pages)

    paid = client.call("PATCH", order_path, body={"status": "PAID"}, expect=200)
    _check_order(paid, new_order, status="PAID")
    if paid["createdAt"] != order["createdAt"]:
        raise Surprise("createdAt changed when the status changed")

    client.call("DELETE", order_path, expect=204)
    client.call("GET", order_path, expect=404)

    invalid = client.call(
        "POST",
        "/orders",
        body={"productName": "smoke-test", "productQuantity": 0, "productPrice": 1},
        expect=422,
    )
    if not isinstance(invalid, dict) or "message" not in invalid:
        raise Surprise(f"a 422 should explain itself with a message, got {invalid}")


def _check_order(order: Any, sent: dict[str, Any], status: str) -> None:
    if not isinstance(order, dict) or set(order) != ORDER_FIELDS:
        raise Surprise(f"an order should have exactly {sorted(ORDER_FIELDS)}, got {order}")
    for field, value in sent.items():
        if order[field] != value:
            raise Surprise(f"{field} is {order[field]!r}, expected {value!r}")
    if order["status"] != status:
        raise Surprise(f"status is {order['status']!r}, expected {status!r}")


def _find_in_listing(client: OrdersClient, order_id: str, page_size: int, max_pages: int) -> None:
    cursor: str | None = None
    for _ in range(max_pages):
        query: dict[str, str | int] = {"limit": page_size}
        if cursor is not None:
            query["cursor"] = cursor
        page = client.call("GET", "/orders", query=query, expect=200)
        if not isinstance(page, dict) or not isinstance(page.get("items"), list) or "nextCursor" not in page:
            raise Surprise(f'a page should be {{"items": [...], "nextCursor": ...}}, got {page}')
        if len(page["items"]) > page_size:
            raise Surprise(f"asked for {page_size} orders, got {len(page['items'])}")
        if any(item.get("orderId") == order_id for item in page["items"]):
            return
        cursor = page["nextCursor"]
        if cursor is None:
            raise Surprise(f"order {order_id} is missing from the listing")
    # A busy store may hold more orders than we are willing to page through; that is not a failure.
    print(f"       (order not within the first {max_pages} pages; listing shape checked)")


def region_of(url: str) -> str | None:
    match = _REGION_IN_HOST.search(urlsplit(url).hostname or "")
    if match:
        return match.group(1)
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def deployed_outputs() -> dict[str, Any]:
    """The outputs of the one stack that `make deploy` saved in cdk-outputs.json (empty if none)."""
    try:
        outputs = json.loads(OUTPUTS_FILE.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(outputs, dict):
        return {}
    stacks = [value for key, value in outputs.items() if key.startswith("OrdersApi")]
    return stacks[0] if len(stacks) == 1 and isinstance(stacks[0], dict) else {}


def client_credentials_token(outputs: dict[str, Any], region: str) -> str:
    """An access token for the stack's services client (apiAuth=jwt with the Cognito pool it created).

    The client secret is read from Cognito with the caller's AWS credentials; it is never stored.
    """
    pool, client, token_url = (outputs.get(name) for name in COGNITO_OUTPUTS)
    if not (pool and client and token_url):
        raise Surprise(f"cdk-outputs.json has no {', '.join(COGNITO_OUTPUTS)}: not apiAuth=jwt")
    cognito = Session().create_client("cognito-idp", region_name=region)
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client)
    secret = described["UserPoolClient"]["ClientSecret"]
    answer = requests.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": "orders/read orders/write"},
        auth=(client, secret),
        timeout=TIMEOUT,
    )
    if answer.status_code != 200:
        raise Surprise(f"the token endpoint answered {answer.status_code}")
    token = answer.json().get("access_token")
    if not isinstance(token, str):
        raise Surprise("the token endpoint answered without an access_token")
    return token


def deployed_with_cognito(url: str) -> bool:
    """Whether ``url`` is the API that `make deploy` saved and its stack signs callers in with its own
    Cognito pool (apiAuth=jwt), whose services client can get a token."""
    outputs = deployed_outputs()
    return outputs.get("ApiUrl") == url and all(outputs.get(name) for name in COGNITO_OUTPUTS)


def deployed_url() -> str | None:
    """The ApiUrl output that `make deploy` saved, if there is one (keyed by stack: OrdersApi-<stage>)."""
    url = deployed_outputs().get("ApiUrl")
    return url if isinstance(url, str) else None


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the checks, print the outcome; return the exit status."""
    parser = argparse.ArgumentParser(description="Smoke-test a deployed orders API.")
    parser.add_argument(
        "api_url", nargs="?", default=os.environ.get("API_URL"), help="the ApiUrl stack output"
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="send unsigned requests (stack with apiAuth=none)"
    )
    parser.add_argument(
        "--bearer",
        default=os.environ.get("SMOKE_BEARER_TOKEN") or None,
        help="send this bearer token (apiAuth=jwt) instead of signing; default $SMOKE_BEARER_TOKEN",
    )
    parser.add_argument(
        "--cognito",
        action="store_true",
        help="apiAuth=jwt with the stack's Cognito pool: a client-credentials token of its services client "
        "(the default for the URL that `make deploy` saved, when its outputs name that pool)",
    )
    parser.add_argument("--page-size", type=int, default=5, help="limit for GET /orders (1-20, default 5)")
    parser.add_argument("--max-pages", type=int, default=10, help="pages to search for the new order")
    args = parser.parse_args(argv)

    url = args.api_url or deployed_url()
    if not url or urlsplit(url).scheme not in ("http", "https"):
        print("Give the API URL: make smoke API_URL=https://<api-id>.execute-api.<region>.amazonaws.com/")
        return 2
    credentials: Credentials | None = None
    region = region_of(url)
    bearer = args.bearer
    if args.cognito or (not args.no_auth and bearer is None and deployed_with_cognito(url)):
        if region is None:
            print("Cannot tell the region from the URL: set AWS_REGION.")
            return 2
        try:
            bearer = client_credentials_token(deployed_outputs(), region)
        except Surprise as surprise:
            print(f"FAILED: {surprise}")
            return 2
    if not args.no_auth and bearer is None:
        if region is None:
            print("Cannot tell the region from the URL: set AWS_REGION.")
            return 2
        credentials = Session().get_credentials()
        if credentials is None:
            print("No AWS credentials found to sign requests (or pass --no-auth for an apiAuth=none stack).")
            return 2

    try:
        run(OrdersClient(url, credentials, region, bearer), args.page_size, args.max_pages)
    except Surprise as surprise:
        print(f"FAILED: {surprise}")
        return 1
    except requests.RequestException as error:
        print(f"FAILED: the API could not be reached: {error}")
        return 1
    print("Smoke test passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
