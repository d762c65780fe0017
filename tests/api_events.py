"""Requests sent through ``lambda_handler`` in process, as API Gateway (HTTP API, payload 2.0) sends them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from orders_api import handler

# A recorded event of an IAM-signed request (caller: arn:aws:iam::123456789012:user/alice).
EVENT: dict[str, Any] = json.loads(
    (Path(__file__).parent / "unit" / "events" / "http_api_v2.json").read_text()
)


@dataclass
class FakeLambdaContext:
    function_name: str = "orders-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name: str = "/aws/lambda/orders-api"
    log_stream_name: str = "2026/11/27/[$LATEST]abcdef"
    remaining_ms: int = 29_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def message(self) -> str:
        return str(self.body["message"])


def invoke(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
    caller_arn: str | None = None,
    base64_body: bool = False,
    remaining_ms: int = 29_000,
) -> Answer:
    """Send one request through lambda_handler the way API Gateway (payload 2.0) would."""
    event = copy.deepcopy(EVENT)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    if caller_arn is not None:
        event["requestContext"]["authorizer"]["iam"]["userArn"] = caller_arn
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = urlencode(query)
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    else:
        event.pop("body")
    event["isBase64Encoded"] = base64_body
    result = handler.lambda_handler(event, FakeLambdaContext(remaining_ms=remaining_ms))
    text = result.get("body")
    return Answer(result["statusCode"], result.get("headers") or {}, json.loads(text) if text else None)
