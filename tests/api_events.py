"""Requests sent through ``lambda_handler`` in process, as API Gateway (HTTP API, payload 2.0) sends them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from localdev.api import LocalContext
from orders_api import handler

# A recorded event of an IAM-signed request (caller: arn:aws:iam::123456789012:user/alice).
EVENT: dict[str, Any] = json.loads(
    (Path(__file__).parent / "unit" / "events" / "http_api_v2.json").read_text()
)


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
    result = handler.lambda_handler(event, LocalContext.leaving(remaining_ms))
    text = result.get("body")
    return Answer(result["statusCode"], result.get("headers") or {}, json.loads(text) if text else None)
