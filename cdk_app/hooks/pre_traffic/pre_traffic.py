"""CodeDeploy's pre-traffic hook: before any caller reaches a new version of the orders function, call
that version with read-only requests, as API Gateway would, and fail the deployment if it misbehaves.

The requests (nothing is written): the OpenAPI document (200), a page of orders (200 with ``items``:
the store and its credentials work), an unknown order (404 in JSON, not a 5xx), and an invalid order
(422: validation works; refused before any write). Each must answer as expected without a function
error. The verdict goes to CodeDeploy, which then shifts traffic, or rolls back and never does.

Runs in Lambda (Python, with the runtime's boto3); ``TARGET_VERSION_ARN`` is the version to check
and ``API_AUTH`` the stack's auth mode, so the events carry the caller identity the function expects.

The verdict must reach CodeDeploy, which otherwise waits an hour for it: a check starts only while
enough of the hook's own time is left for the slowest answer (``INVOKE_ALLOWANCE_MS``), and the
verdict is sent whatever happened before.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from typing import Any

Invoke = Callable[..., dict[str, Any]]
# The longest one call of the new version can take: the function's 28 s timeout after a 10 s init,
# and a margin for the call and the verdict.
INVOKE_ALLOWANCE_MS = 45_000

CHECKS: list[tuple[str, str, dict[str, str] | None, str | None, int]] = [
    ("GET", "/openapi.json", None, None, 200),
    ("GET", "/orders", {"limit": "1"}, None, 200),
    ("GET", f"/orders/{uuid.UUID(int=0)}", None, None, 404),
    ("POST", "/orders", None, '{"productName": ""}', 422),
]


def handler(event: dict[str, Any], context: Any) -> None:
    """Check the new version, then tell CodeDeploy whether traffic may move to it."""
    import boto3  # in the Lambda runtime

    target = os.environ.get("TARGET_VERSION_ARN", "")
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    problems = ["the checks did not finish"]
    try:
        invoke = boto3.client("lambda").invoke
        problems = check(invoke, target, os.environ.get("API_AUTH", "iam"), remaining_ms)
    except Exception as error:
        problems = [f"the checks could not run: {type(error).__name__}"]
    finally:
        status = "Failed" if problems else "Succeeded"
        print(json.dumps({"target": target, "status": status, "problems": problems}))
        boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status=status,
        )


def check(
    invoke: Invoke, target: str, auth_mode: str, remaining_ms: Callable[[], int] | None = None
) -> list[str]:
    """What went wrong calling ``target`` with each read-only request (empty: healthy).

    ``remaining_ms``: the hook's own time left; a check that might not finish in it is not started.
    """
    problems: list[str] = []
    for method, path, query, body, expected in CHECKS:
        if remaining_ms is not None and remaining_ms() < INVOKE_ALLOWANCE_MS:
            problems.append(f"{method} {path}: not checked, the hook ran out of time")
            break
        event = http_api_event(method, path, query, body, auth_mode)
        answer = invoke(FunctionName=target, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read())
        if answer.get("FunctionError"):
            problems.append(f"{method} {path}: function error {answer['FunctionError']}")
            continue
        status = payload.get("statusCode") if isinstance(payload, dict) else None
        if status != expected:
            problems.append(f"{method} {path}: expected {expected}, got {status}")
        elif status == 200 and path == "/orders" and "items" not in json.loads(payload.get("body") or "{}"):
            problems.append(f"{method} {path}: a page without items")
    return problems


def http_api_event(
    method: str, path: str, query: dict[str, str] | None, body: str | None, auth_mode: str
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event for the request, with the caller identity ``auth_mode`` needs."""
    authorizer: dict[str, Any] = {}
    if auth_mode == "iam":
        account = os.environ.get("AWS_ACCOUNT_ID", "000000000000")
        arn = f"arn:aws:sts::{account}:assumed-role/orders-pre-traffic-hook/check"
        authorizer = {"iam": {"userArn": arn, "accountId": account}}
    elif auth_mode == "jwt":
        authorizer = {"jwt": {"claims": {"iss": "orders-pre-traffic-hook", "sub": "check"}, "scopes": []}}
    query_string = "&".join(f"{key}={value}" for key, value in (query or {}).items())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": {"content-type": "application/json", "user-agent": "orders-pre-traffic-hook"},
        "requestContext": {
            "authorizer": authorizer,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": f"pre-traffic-{uuid.uuid4()}",
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event
