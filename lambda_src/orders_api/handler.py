"""The Lambda entry point: the HTTP API resolver, error mapping, and the checks made before routing
(the 64 KiB body limit, JSON bodies only).

Handler setting: ``orders_api.handler.lambda_handler`` (API Gateway HTTP API, payload format 2.0).
"""

# No "from __future__ import annotations": Powertools reads these annotations at run time.
import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_api import errors
from orders_api.observability import logger, metrics, tracer
from orders_api.routes import router

API_TITLE = "Orders API"
API_VERSION = "1.0.0"
MAX_BODY_BYTES = 64 * 1024
JSON = "application/json"

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(router)


def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"message": message}
    if details:
        body["errors"] = details
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[Any]:
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return _error(400, "The request body is not valid JSON.")
    details = [
        {"field": _field_name(problem.get("loc", ())), "message": str(problem.get("msg", "is not valid"))}
        for problem in problems
    ]
    summary = "; ".join(f"{detail['field']}: {detail['message']}" for detail in details)
    return _error(422, f"Invalid request: {summary}.", details)


def _field_name(location: Any) -> str:
    # ("body", "productQuantity") → "productQuantity"; ("query", "limit") → "limit"; ("body",) → "body"
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or (str(location[0]) if location else "request")


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
    return _error(415, "Send the request body as application/json.")


@app.exception_handler(errors.OrderNotFound)
def _not_found(error: errors.OrderNotFound) -> Response[Any]:
    return _error(404, str(error))


@app.exception_handler([errors.IdempotencyKeyReused, errors.TransitionNotAllowed, errors.ConcurrentUpdate])
def _conflict(error: errors.OrdersError) -> Response[Any]:
    return _error(409, str(error))


@app.exception_handler(errors.InvalidCursor)
def _bad_cursor(error: errors.InvalidCursor) -> Response[Any]:
    return _error(400, str(error))


@app.exception_handler(errors.StoreError)
def _store_failed(error: errors.StoreError) -> Response[Any]:
    # The message names the failure, never a token; the cause goes to the log for the operator.
    logger.warning("Order store failed", error=str(error), cause=repr(error.__cause__))
    metrics.add_metric(name="StoreFailure", unit=MetricUnit.Count, value=1)
    return _error(error.status_code, str(error))


@app.exception_handler(errors.ConfigurationError)
def _misconfigured(error: errors.ConfigurationError) -> Response[Any]:
    logger.error("Service misconfigured", error=str(error))
    return _error(500, f"The service is misconfigured. {error}")


@app.not_found
def _no_route(error: Exception) -> Response[Any]:
    event = app.current_event
    return _error(404, f"There is no route {event.http_method} {event.path}.")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    logger.exception("Unexpected error")
    return _error(500, "Internal error; it has been logged.")


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[Any]:
    """The OpenAPI document generated from the routes and models."""
    return Response(status_code=200, content_type=JSON, body=openapi_json())


def openapi_json() -> str:
    """The API's OpenAPI document as JSON text."""
    return app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)


@app.exception_handler(UnicodeDecodeError)
def _not_utf8(error: UnicodeDecodeError) -> Response[Any]:
    return _error(400, "The request body is not valid JSON: it is not UTF-8 text.")


def _body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(base64.b64decode(body, validate=False))
    return len(body.encode())


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", JSON) or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _refused_before_routing(event: dict[str, Any]) -> dict[str, Any] | None:
    """An answer for requests no route should see: bodies over 64 KiB, bodies that are not JSON."""
    if not event.get("body"):
        return None
    if _body_size(event) > MAX_BODY_BYTES:
        return _early_answer(413, f"The request body is over {MAX_BODY_BYTES // 1024} KiB.")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if not _is_json(headers.get("content-type", "")):
        return _early_answer(415, "Send the request body as application/json.")
    return None


def _early_answer(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one HTTP API v2 event; oversized or non-JSON bodies are refused before any parsing."""
    refused = _refused_before_routing(event)
    if refused is not None:
        return refused
    return app.resolve(event, context)
