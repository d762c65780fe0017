"""Send one request to the deployed orders API, signed with SigV4, and print the answer.

    .venv/bin/python scripts/call.py POST /orders '{"productName":"Tea","productQuantity":1,"productPrice":4}'
    .venv/bin/python scripts/call.py GET '/orders?limit=5'
    .venv/bin/python scripts/call.py GET "/orders?limit=5&cursor=$NEXT" --url https://<api-id>.execute-api...

What curl cannot always do: credentials come from the usual AWS chain (environment, profile, SSO,
assumed role, instance role), a session token is sent when there is one, the region comes from the
API's URL, and the query string is signed in the canonical order whatever order it was written in
(curl before 8.x did not sort it, so a `nextCursor` request signed by curl could answer 403). The
URL defaults to the ``ApiUrl`` that `make deploy` saved in ``cdk-outputs.json``. The caller needs
``execute-api:Invoke`` on the API. Exit status: 0 for a 2xx answer, 1 for any other, 2 when the
request cannot be sent (no URL, region or credentials).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke import TIMEOUT, deployed_url, region_of


def signed_headers(
    method: str, url: str, body: bytes | None, headers: dict[str, str], credentials: Credentials, region: str
) -> dict[str, str]:
    """``headers`` plus the SigV4 signature of the request for execute-api (session token included)."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, send the request, print status and body; return the exit status."""
    parser = argparse.ArgumentParser(description="Send one signed request to the orders API.")
    parser.add_argument("method", type=str.upper, choices=["GET", "POST", "PATCH", "DELETE"])
    parser.add_argument("path", help="path and query, e.g. /orders?limit=5")
    parser.add_argument("body", nargs="?", help="JSON body for POST and PATCH")
    parser.add_argument("--url", help="the API's base URL (default: ApiUrl in cdk-outputs.json)")
    parser.add_argument("--header", "-H", action="append", default=[], help="extra header, 'Name: value'")
    parser.add_argument("--no-auth", action="store_true", help="send it unsigned (apiAuth=none)")
    args = parser.parse_args(argv)

    base = args.url or deployed_url()
    if not base or urlsplit(base).scheme not in ("http", "https"):
        print(
            "No API URL: deploy first (make deploy writes cdk-outputs.json) or pass --url.", file=sys.stderr
        )
        return 2
    url = base.rstrip("/") + "/" + args.path.lstrip("/")
    body = None
    if args.body is not None:
        try:
            body = json.dumps(json.loads(args.body)).encode()
        except ValueError:
            print("The body is not valid JSON.", file=sys.stderr)
            return 2

    headers: dict[str, str] = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    if not args.no_auth:
        region = region_of(base)
        credentials = Session().get_credentials()
        if region is None or credentials is None:
            print(
                "Cannot sign: " + ("set AWS_REGION" if region is None else "no AWS credentials found"),
                file=sys.stderr,
            )
            return 2
        frozen = credentials.get_frozen_credentials()
        headers = signed_headers(args.method, url, body, headers, frozen, region)

    try:
        response = requests.request(args.method, url, data=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as error:
        print(f"The API could not be reached: {type(error).__name__}", file=sys.stderr)
        return 2
    print(response.status_code)
    if response.content:
        print(_pretty(response))
    return 0 if 200 <= response.status_code < 300 else 1


def _pretty(response: requests.Response) -> Any:
    try:
        return json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        return response.text


if __name__ == "__main__":
    sys.exit(main())
